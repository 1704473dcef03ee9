// The cloud's Calico resources, applied from the primary controller with `brindle ctl`: each kind
// is listed once, and only resources whose spec differs from the settings are written.
import { isDeepStrictEqual } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { DeployStepError } from './errors.js';
import type { CalicoDoc } from './plan-deploy.js';
import { shq, type Remote } from './remote.js';

const SEPARATOR = '---brindle-deploy---';

/** True when every key the settings set has the same value in the resource as stored. */
function specMatches(want: Readonly<Record<string, unknown>>, have: unknown): boolean {
  if (typeof have !== 'object' || have === null) return false;
  const spec = (have as { spec?: Record<string, unknown> }).spec ?? {};
  return Object.entries(want).every(([k, v]) => isDeepStrictEqual(spec[k], v));
}

/** Deploy's own names: BGPPeers `external-*` and IPPools `pool-*` it wrote once, which the settings no longer list. */
const OWN: readonly { kind: string; prefix: string }[] = [
  { kind: 'BGPPeer', prefix: 'external-' },
  { kind: 'IPPool', prefix: 'pool-' },
];

type Stored = { metadata: { name: string }; spec?: Record<string, unknown> };

/**
 * Every kind the settings write or deploy owns, listed once (one `brindle ctl get KIND -o json`
 * each, in one ssh round trip): what is compared with the settings and what may be stale.
 */
async function listKinds(remote: Remote, kinds: readonly string[], step: string): Promise<Map<string, Stored[]>> {
  const read = await remote.run(
    [
      'err=$(mktemp)',
      ...kinds.map((k) => `if out=$(brindle ctl get ${shq(k)} -o json 2>"$err"); then echo "$out"; else echo "ERROR $(cat "$err")"; fi; echo ${SEPARATOR}`),
      'rm -f "$err"',
    ].join('\n'),
  );
  if (read.code !== 0) throw new DeployStepError(remote.machine.name, step, 'brindle ctl get', read.stderr);
  const texts = read.stdout.split(`${SEPARATOR}\n`);
  const lists = new Map<string, Stored[]>();
  kinds.forEach((kind, i) => {
    const text = texts[i] ?? '';
    if (text.startsWith('ERROR ')) throw new DeployStepError(remote.machine.name, step, `brindle ctl get ${kind}`, text.slice('ERROR '.length));
    try {
      lists.set(kind, (JSON.parse(text) as { items: Stored[] }).items);
    } catch {
      throw new DeployStepError(remote.machine.name, step, `brindle ctl get ${kind} -o json`, `not JSON: ${text.slice(0, 500)}`);
    }
  });
  return lists;
}

export async function ensureResources(remote: Remote, docs: readonly CalicoDoc[], check: boolean): Promise<string[]> {
  const step = 'resources';
  const lists = await listKinds(remote, [...new Set([...docs.map((d) => d.kind), ...OWN.map((o) => o.kind)])], step);
  const storedOf = (kind: string, name: string): Stored | undefined => lists.get(kind)?.find((r) => r.metadata.name === name);
  const differing = docs.filter((d) => {
    const have = storedOf(d.kind, d.metadata.name);
    return have === undefined || !specMatches(d.spec, have);
  });
  if (!check && differing.length > 0) {
    const yaml = differing.map((d) => toYaml(d)).join('---\n');
    const r = await remote.run(`brindle ctl apply -f - <<'BRINDLE_RESOURCES'\n${yaml}BRINDLE_RESOURCES`);
    if (r.code !== 0) throw new DeployStepError(remote.machine.name, step, 'brindle ctl apply -f -', r.stderr + r.stdout);
  }
  const stale = OWN.flatMap((own) => {
    const wanted = new Set(docs.filter((d) => d.kind === own.kind).map((d) => d.metadata.name));
    return (lists.get(own.kind) ?? [])
      .filter((r) => r.metadata.name.startsWith(own.prefix) && !wanted.has(r.metadata.name))
      .map((r) => ({ kind: own.kind, name: r.metadata.name }));
  });
  if (!check) {
    // One `brindle ctl delete KIND NAME…` per kind.
    for (const own of OWN) {
      const names = stale.filter((r) => r.kind === own.kind).map((r) => r.name);
      if (names.length === 0) continue;
      const del = await remote.run(`brindle ctl delete ${shq(own.kind)} ${names.map(shq).join(' ')}`);
      if (del.code !== 0) throw new DeployStepError(remote.machine.name, step, `brindle ctl delete ${own.kind} ${names.join(' ')}`, del.stderr + del.stdout);
    }
  }
  return [...differing.map((d) => `apply ${d.kind} ${d.metadata.name}`), ...stale.map((r) => `delete ${r.kind} ${r.name} (no longer in the settings)`)];
}

const BRINDLE_UNITS = ['brindle-node.service', 'brindle-api.service', 'brindle-metadata.service', 'brindle-console.service'];

/** A retired machine: its Brindle services stopped and disabled (one that cannot be reached is reported, not fatal). */
export async function retireMachine(remote: Remote, check: boolean): Promise<string[]> {
  const state = await remote.run(
    BRINDLE_UNITS.map((u) => `echo "${u} $(systemctl is-enabled ${u} 2>/dev/null || true) $(systemctl is-active ${u} 2>/dev/null || true)"`).join('\n'),
    30_000,
  );
  if (state.code === 255) return [`cannot reach it (${state.stderr.trim().split('\n').at(-1) ?? ''}): stop its Brindle services by hand`];
  if (state.code !== 0) throw new DeployStepError(remote.machine.name, 'retire', 'systemctl is-enabled/is-active', state.stderr + state.stdout);
  const running = state.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([, enabled, active]) => enabled === 'enabled' || active === 'active' || active === 'activating')
    .map(([unit]) => unit ?? '');
  if (!check && running.length > 0) {
    const r = await remote.run(`systemctl disable --now ${running.map(shq).join(' ')}`);
    if (r.code !== 0) throw new DeployStepError(remote.machine.name, 'retire', `systemctl disable --now ${running.join(' ')}`, r.stderr);
  }
  return running.map((u) => `stop and disable ${u}`);
}

/** Deletes the retired machines' Calico Nodes (their BGP sessions go with them), on the primary. */
export async function deleteNodes(primary: Remote, names: readonly string[], check: boolean): Promise<string[]> {
  const listed = new Set(((await listKinds(primary, ['Node'], 'retire')).get('Node') ?? []).map((n) => n.metadata.name));
  const present = names.filter((n) => listed.has(n));
  if (!check && present.length > 0) {
    const r = await primary.run(`brindle ctl delete node ${present.map(shq).join(' ')}`);
    if (r.code !== 0) throw new DeployStepError(primary.machine.name, 'retire', `brindle ctl delete node ${present.join(' ')}`, r.stderr + r.stdout);
  }
  return present.map((n) => `delete Node ${n}`);
}
