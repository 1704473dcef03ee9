// The cloud's Calico resources, applied from the primary controller with `brindle ctl`: each one
// is read first, and only those whose spec differs from the settings are written.
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

export async function ensureResources(remote: Remote, docs: readonly CalicoDoc[], check: boolean): Promise<string[]> {
  const step = 'resources';
  const read = await remote.run(
    [
      'err=$(mktemp)',
      ...docs.map(
        (d) =>
          `if out=$(brindle ctl get ${shq(d.kind)} ${shq(d.metadata.name)} -o json 2>"$err"); then echo "$out"; else echo "ERROR $(cat "$err")"; fi; echo ${SEPARATOR}`,
      ),
      'rm -f "$err"',
    ].join('\n'),
  );
  if (read.code !== 0) throw new DeployStepError(remote.machine.name, step, 'brindle ctl get', read.stderr);
  const stored = read.stdout.split(`${SEPARATOR}\n`);
  const differing = docs.filter((d, i) => {
    const text = stored[i] ?? '';
    if (text.startsWith('ERROR ')) {
      if (/not found/i.test(text)) return true;
      throw new DeployStepError(remote.machine.name, step, `brindle ctl get ${d.kind} ${d.metadata.name}`, text.slice('ERROR '.length));
    }
    try {
      return !specMatches(d.spec, JSON.parse(text));
    } catch {
      throw new DeployStepError(remote.machine.name, step, `brindle ctl get ${d.kind} ${d.metadata.name} -o json`, `not JSON: ${text.slice(0, 500)}`);
    }
  });
  if (!check && differing.length > 0) {
    const yaml = differing.map((d) => toYaml(d)).join('---\n');
    const r = await remote.run(`brindle ctl apply -f - <<'BRINDLE_RESOURCES'\n${yaml}BRINDLE_RESOURCES`);
    if (r.code !== 0) throw new DeployStepError(remote.machine.name, step, 'brindle ctl apply -f -', r.stderr + r.stdout);
  }
  const stale = await staleOwnResources(remote, docs);
  if (!check && stale.length > 0) {
    for (const r of stale) {
      const del = await remote.run(`brindle ctl delete ${shq(r.kind)} ${shq(r.name)}`);
      if (del.code !== 0) throw new DeployStepError(remote.machine.name, step, `brindle ctl delete ${r.kind} ${r.name}`, del.stderr + del.stdout);
    }
  }
  return [...differing.map((d) => `apply ${d.kind} ${d.metadata.name}`), ...stale.map((r) => `delete ${r.kind} ${r.name} (no longer in the settings)`)];
}

/** Deploy's own names: BGPPeers `external-*` and IPPools `pool-*` it wrote once, which the settings no longer list. */
const OWN: readonly { kind: string; prefix: string }[] = [
  { kind: 'BGPPeer', prefix: 'external-' },
  { kind: 'IPPool', prefix: 'pool-' },
];

async function staleOwnResources(remote: Remote, docs: readonly CalicoDoc[]): Promise<{ kind: string; name: string }[]> {
  const out: { kind: string; name: string }[] = [];
  for (const own of OWN) {
    const r = await remote.run(`brindle ctl get ${own.kind} -o json`);
    if (r.code !== 0) throw new DeployStepError(remote.machine.name, 'resources', `brindle ctl get ${own.kind}`, r.stderr);
    let items: { metadata: { name: string } }[];
    try {
      items = (JSON.parse(r.stdout) as { items: { metadata: { name: string } }[] }).items;
    } catch {
      throw new DeployStepError(remote.machine.name, 'resources', `brindle ctl get ${own.kind} -o json`, `not JSON: ${r.stdout.slice(0, 300)}`);
    }
    const wanted = new Set(docs.filter((d) => d.kind === own.kind).map((d) => d.metadata.name));
    for (const item of items)
      if (item.metadata.name.startsWith(own.prefix) && !wanted.has(item.metadata.name)) out.push({ kind: own.kind, name: item.metadata.name });
  }
  return out;
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
  const present: string[] = [];
  for (const name of names) {
    const r = await primary.run(`brindle ctl get node ${shq(name)} -o json`);
    if (r.code === 0) present.push(name);
    else if (!/not found/i.test(r.stderr)) throw new DeployStepError(primary.machine.name, 'retire', `brindle ctl get node ${name}`, r.stderr);
  }
  if (!check && present.length > 0) {
    const r = await primary.run(`brindle ctl delete node ${present.map(shq).join(' ')}`);
    if (r.code !== 0) throw new DeployStepError(primary.machine.name, 'retire', `brindle ctl delete node ${present.join(' ')}`, r.stderr + r.stdout);
  }
  return present.map((n) => `delete Node ${n}`);
}
