import { useEffect, useState } from 'preact/hooks';
import type { ApplyReply, Conflict, ExternalPeerForm, FieldError, IpPoolForm, PlanReply, SettingsForm, SettingsReply } from '../api-types.js';
import { ApiError, get, post } from './api.js';

type Phase = { kind: 'editing' } | { kind: 'review'; plan: PlanReply } | { kind: 'applied'; reply: ApplyReply };

const fieldId = (field: string): string => `f-${field.replace(/[^a-zA-Z0-9]+/g, '-')}`;

function FieldMessage({ field, errors }: { field: string; errors: FieldError[] }) {
  const mine = errors.filter((e) => e.field === field);
  if (mine.length === 0) return null;
  return (
    <span class="field-error" id={`${fieldId(field)}-error`} data-field-error={field}>
      {mine.map((e) => e.message).join('; ')}
    </span>
  );
}

const invalidProps = (field: string, errors: FieldError[]) =>
  errors.some((e) => e.field === field) ? { 'aria-invalid': true as const, 'aria-describedby': `${fieldId(field)}-error` } : {};

function TextField(p: { field: string; label: string; value: string; errors: FieldError[]; onInput: (v: string) => void; hint?: string }) {
  return (
    <div class="field">
      <label for={fieldId(p.field)}>{p.label}</label>
      <input id={fieldId(p.field)} name={p.field} value={p.value} onInput={(e) => p.onInput(e.currentTarget.value)} {...invalidProps(p.field, p.errors)} />
      {p.hint !== undefined && <small>{p.hint}</small>}
      <FieldMessage field={p.field} errors={p.errors} />
    </div>
  );
}

function Check(p: { field: string; label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <div class="field check">
      <input type="checkbox" id={fieldId(p.field)} name={p.field} checked={p.checked} onChange={(e) => p.onChange(e.currentTarget.checked)} />
      <label for={fieldId(p.field)}>{p.label}</label>
    </div>
  );
}

export function SettingsPage() {
  const [loaded, setLoaded] = useState<SettingsReply | undefined>(undefined);
  const [draft, setDraft] = useState<SettingsForm | undefined>(undefined);
  const [phase, setPhase] = useState<Phase>({ kind: 'editing' });
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [conflicts, setConflicts] = useState<Conflict[] | undefined>(undefined);
  const [message, setMessage] = useState<string>('');
  const [busy, setBusy] = useState(false);

  const load = async (): Promise<void> => {
    const r = await get<SettingsReply>('/api/settings');
    setLoaded(r);
    setDraft(structuredClone(r.form));
    setErrors([]);
    setConflicts(undefined);
    setPhase({ kind: 'editing' });
  };
  useEffect(() => {
    load().catch((err: unknown) => setMessage(String(err instanceof Error ? err.message : err)));
  }, []);
  if (loaded === undefined || draft === undefined) return <p aria-busy="true">{message || 'Loading…'}</p>;

  const set = (patch: Partial<SettingsForm>): void => setDraft({ ...draft, ...patch });
  const setPeer = (i: number, patch: Partial<ExternalPeerForm>): void =>
    set({ externalPeers: draft.externalPeers.map((p, j) => (j === i ? { ...p, ...patch } : p)) });
  const setPool = (i: number, patch: Partial<IpPoolForm>): void => set({ ipPools: draft.ipPools.map((p, j) => (j === i ? { ...p, ...patch } : p)) });

  const send = async (what: 'plan' | 'apply'): Promise<void> => {
    setBusy(true);
    setMessage('');
    try {
      if (what === 'plan') {
        const plan = await post<PlanReply>('/api/settings/plan', { base: loaded.form, desired: draft });
        setErrors([]);
        setPhase({ kind: 'review', plan });
      } else {
        const reply = await post<ApplyReply>('/api/settings/apply', { base: loaded.form, desired: draft });
        setLoaded({ ...loaded, form: reply.form });
        setDraft(structuredClone(reply.form));
        setPhase({ kind: 'applied', reply });
        setMessage(reply.changes.length === 0 ? 'Nothing to change.' : `Applied ${reply.changes.length} change${reply.changes.length === 1 ? '' : 's'}.`);
      }
    } catch (err) {
      if (err instanceof ApiError && err.reply.code === 'CONSOLE_INVALID') {
        setErrors(err.reply.fields ?? []);
        setPhase({ kind: 'editing' });
        setMessage(`Not saved: ${err.reply.fields?.length ?? 0} field${err.reply.fields?.length === 1 ? ' needs' : 's need'} attention.`);
        if (err.reply.fields?.some((f) => f.field === 'form') === true) setMessage(err.message);
      } else if (err instanceof ApiError && err.reply.code === 'CONSOLE_CONFLICT') {
        setConflicts(err.reply.conflicts ?? []);
        setPhase({ kind: 'editing' });
        setMessage(err.message);
      } else setMessage(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const editing = phase.kind !== 'review';
  return (
    <section aria-labelledby="settings-h">
      <h1 id="settings-h">Settings</h1>
      <p role="status" aria-live="polite" class={errors.length > 0 || conflicts !== undefined ? 'error' : 'notice'} data-testid="settings-status">
        {message}
      </p>
      {conflicts !== undefined && (
        <div role="alert" class="conflict" data-testid="conflict">
          <h2>Someone else changed these settings</h2>
          <ul>
            {conflicts.map((c) => (
              <li key={c.what}>
                {c.what}: was <code>{c.was}</code> when you opened the page, now <code>{c.now}</code>
              </li>
            ))}
          </ul>
          <p>Nothing of yours was written.</p>
          <button type="button" onClick={() => void load()}>
            Start again from the current settings
          </button>
        </div>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send('plan');
        }}
      >
        <fieldset disabled={!editing || busy}>
          <legend>BGP</legend>
          <TextField
            field="asNumber"
            label="AS number"
            value={draft.asNumber}
            errors={errors}
            onInput={(v) => set({ asNumber: v })}
            hint="1–4294967294, or dotted (1.10)"
          />
          <Check field="mesh" label="Full mesh between hosts" checked={draft.mesh} onChange={(v) => set({ mesh: v })} />
          <TextField
            field="reflectorClusterId"
            label="Route reflector cluster id"
            value={draft.reflectorClusterId}
            errors={errors}
            onInput={(v) => set({ reflectorClusterId: v })}
            hint="typed here, every reflector gets it; left as it is, each keeps its own and new ones get it"
          />
          <div class="field">
            <label for={fieldId('reflectorNodes')}>Nodes that reflect routes</label>
            <select
              id={fieldId('reflectorNodes')}
              multiple
              size={Math.min(8, Math.max(3, loaded.nodes.length))}
              onChange={(e) => set({ reflectorNodes: [...e.currentTarget.selectedOptions].map((o) => o.value) })}
              {...invalidProps('reflectorNodes', errors)}
            >
              {loaded.nodes.map((n) => (
                <option key={n} value={n} selected={draft.reflectorNodes.includes(n)}>
                  {n}
                  {draft.reflectorIds[n] === undefined ? '' : ` (cluster ${draft.reflectorIds[n]})`}
                </option>
              ))}
            </select>
            <FieldMessage field="reflectorNodes" errors={errors} />
          </div>
        </fieldset>
        <fieldset disabled={!editing || busy}>
          <legend>External BGP peers</legend>
          {draft.externalPeers.length === 0 && <p>No external peers.</p>}
          {draft.externalPeers.map((p, i) => (
            <div class="row" key={i} role="group" aria-label={`external peer ${i + 1}`}>
              <TextField field={`externalPeers[${i}].name`} label="Name" value={p.name} errors={errors} onInput={(v) => setPeer(i, { name: v })} />
              <TextField field={`externalPeers[${i}].peerIP`} label="Address" value={p.peerIP} errors={errors} onInput={(v) => setPeer(i, { peerIP: v })} />
              <TextField field={`externalPeers[${i}].asNumber`} label="AS" value={p.asNumber} errors={errors} onInput={(v) => setPeer(i, { asNumber: v })} />
              <TextField field={`externalPeers[${i}].node`} label="Only from node" value={p.node} errors={errors} onInput={(v) => setPeer(i, { node: v })} />
              <TextField
                field={`externalPeers[${i}].nodeSelector`}
                label="Or nodes matching"
                value={p.nodeSelector}
                errors={errors}
                onInput={(v) => setPeer(i, { nodeSelector: v })}
              />
              <button type="button" onClick={() => set({ externalPeers: draft.externalPeers.filter((_, j) => j !== i) })}>
                Remove peer {p.name}
              </button>
            </div>
          ))}
          <button
            type="button"
            onClick={() => set({ externalPeers: [...draft.externalPeers, { name: '', peerIP: '', asNumber: '', node: '', nodeSelector: '' }] })}
          >
            Add an external peer
          </button>
        </fieldset>
        <fieldset disabled={!editing || busy}>
          <legend>IP pools</legend>
          {draft.ipPools.map((p, i) => (
            <div class="row" key={i} role="group" aria-label={`IP pool ${i + 1}`}>
              <TextField field={`ipPools[${i}].name`} label="Name" value={p.name} errors={errors} onInput={(v) => setPool(i, { name: v })} />
              <TextField field={`ipPools[${i}].cidr`} label="CIDR" value={p.cidr} errors={errors} onInput={(v) => setPool(i, { cidr: v })} />
              <Check field={`ipPools[${i}].natOutgoing`} label="NAT outgoing" checked={p.natOutgoing} onChange={(v) => setPool(i, { natOutgoing: v })} />
              <Check field={`ipPools[${i}].disabled`} label="Disabled" checked={p.disabled} onChange={(v) => setPool(i, { disabled: v })} />
              <button type="button" onClick={() => set({ ipPools: draft.ipPools.filter((_, j) => j !== i) })}>
                Remove pool {p.name}
              </button>
            </div>
          ))}
          <button type="button" onClick={() => set({ ipPools: [...draft.ipPools, { name: '', cidr: '', natOutgoing: false, disabled: false }] })}>
            Add an IP pool
          </button>
        </fieldset>
        <fieldset disabled={!editing || busy}>
          <legend>IPv6</legend>
          <Check field="ipv6" label="IPv6 on hosts (Felix ipv6Support)" checked={draft.ipv6} onChange={(v) => set({ ipv6: v })} />
        </fieldset>
        {editing && (
          <button type="submit" disabled={busy}>
            Review changes
          </button>
        )}
      </form>
      {phase.kind === 'review' && (
        <div class="review" data-testid="review">
          <h2>What will change</h2>
          {phase.plan.changes.length === 0 && <p>Nothing: the settings already say this.</p>}
          <ul>
            {phase.plan.changes.map((c) => (
              <li key={`${c.kind}/${c.name}`} data-change={`${c.action} ${c.kind} ${c.name}`}>
                <strong>
                  {c.action} {c.kind} {c.name}
                </strong>
                <ul>
                  {c.fields.map((f) => (
                    <li key={f.field}>
                      <code>{f.field}</code>: {f.from === '' ? '(unset)' : <code>{f.from}</code>} → {f.to === '' ? '(unset)' : <code>{f.to}</code>}
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
          {phase.plan.warnings.map((w) => (
            <p key={w} class="warn">
              {w}
            </p>
          ))}
          <button type="button" disabled={busy || phase.plan.changes.length === 0} onClick={() => void send('apply')}>
            Apply
          </button>{' '}
          <button type="button" disabled={busy} onClick={() => setPhase({ kind: 'editing' })}>
            Back to editing
          </button>
        </div>
      )}
    </section>
  );
}
