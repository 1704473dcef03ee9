import { isClusterId } from '../bgp/index.js';
import type { ResourceOp } from '../datastore/index.js';
import {
  API_VERSION,
  validateResource,
  ValidationError,
  type BGPConfiguration,
  type BGPPeer,
  type CalicoNode,
  type CalicoResource,
  type FelixConfiguration,
  type IPPool,
} from '../model/index.js';
import type { Conflict, FieldChange, FieldError, SettingsChange, SettingsForm } from './api-types.js';

/** Calico's default AS when the BGPConfiguration sets none. */
export const DEFAULT_AS = '64512';
export const DEFAULT_CLUSTER_ID = '224.0.0.1';

/** The resources the settings page reads and writes, each with its metadata.resourceVersion. */
export interface SettingsSnapshot {
  readonly bgpConfigurations: readonly BGPConfiguration[];
  readonly felixConfigurations: readonly FelixConfiguration[];
  readonly bgpPeers: readonly BGPPeer[];
  readonly ipPools: readonly IPPool[];
  readonly nodes: readonly CalicoNode[];
}

export interface SettingsPlan {
  readonly errors: FieldError[];
  readonly changes: SettingsChange[];
  readonly warnings: string[];
  readonly ops: ResourceOp[];
}

const byName = <T extends { metadata: { name: string } }>(items: readonly T[], name: string): T | undefined => items.find((i) => i.metadata.name === name);
const sortByName = <T extends { metadata: { name: string } }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));

/** A BGPPeer the page manages: one router by address (peerSelector peers are Calico nodes, not external). */
function isExternalPeer(p: BGPPeer): boolean {
  return p.spec.peerIP !== undefined && p.spec.peerSelector === undefined;
}

/** The form as the resources say now. */
export function readSettingsForm(s: SettingsSnapshot): SettingsForm {
  const bgp = byName(s.bgpConfigurations, 'default')?.spec;
  const reflectors = sortByName(s.nodes).filter((n) => (n.spec.bgp?.routeReflectorClusterID ?? '') !== '');
  return {
    asNumber: String(bgp?.asNumber ?? DEFAULT_AS),
    mesh: bgp?.nodeToNodeMeshEnabled ?? true,
    reflectorClusterId: reflectors[0]?.spec.bgp?.routeReflectorClusterID ?? DEFAULT_CLUSTER_ID,
    reflectorNodes: reflectors.map((n) => n.metadata.name),
    reflectorIds: Object.fromEntries(reflectors.map((n) => [n.metadata.name, n.spec.bgp?.routeReflectorClusterID ?? ''])),
    externalPeers: sortByName(s.bgpPeers.filter(isExternalPeer)).map((p) => ({
      name: p.metadata.name,
      peerIP: p.spec.peerIP ?? '',
      asNumber: p.spec.asNumber === undefined ? '' : String(p.spec.asNumber),
      node: p.spec.node ?? '',
      nodeSelector: p.spec.nodeSelector ?? '',
    })),
    ipPools: sortByName(s.ipPools).map((p) => ({
      name: p.metadata.name,
      cidr: p.spec.cidr,
      natOutgoing: p.spec.natOutgoing === true,
      disabled: p.spec.disabled === true,
    })),
    ipv6: byName(s.felixConfigurations, 'default')?.spec.ipv6Support ?? true,
  };
}

/** The form as `what → value` lines, to compare two forms and name what differs. */
function formLines(f: SettingsForm): Map<string, string> {
  const lines = new Map<string, string>([
    ['AS number', f.asNumber],
    ['full mesh', f.mesh ? 'on' : 'off'],
    [
      'route reflectors',
      Object.entries(f.reflectorIds)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([n, id]) => `${n} (cluster ${id})`)
        .join(', ') || 'none',
    ],
    ['IPv6', f.ipv6 ? 'on' : 'off'],
  ]);
  for (const p of f.externalPeers) {
    const where = p.node !== '' ? `node ${p.node}` : p.nodeSelector !== '' ? `nodes ${p.nodeSelector}` : 'every node';
    lines.set(`external peer ${p.name}`, `${p.peerIP} AS ${p.asNumber}, from ${where}`);
  }
  for (const p of f.ipPools) lines.set(`IP pool ${p.name}`, `${p.cidr}${p.natOutgoing ? ', natOutgoing' : ''}${p.disabled ? ', disabled' : ''}`);
  return lines;
}

/** What changed between the form a page loaded (`base`) and the resources now: someone else's changes. */
export function settingsConflicts(base: SettingsForm, now: SettingsForm): Conflict[] {
  const was = formLines(base);
  const is = formLines(now);
  const out: Conflict[] = [];
  for (const what of new Set([...was.keys(), ...is.keys()])) {
    const a = was.get(what) ?? '(none)';
    const b = is.get(what) ?? '(none)';
    if (a !== b) out.push({ what, was: a, now: b });
  }
  return out;
}

/** An AS number as typed: digits become a number, anything else stays text for the schema to judge. */
function asValue(text: string): number | string {
  const t = text.trim();
  return /^\d+$/.test(t) && Number.isSafeInteger(Number(t)) ? Number(t) : t;
}

function flatSpec(r: CalicoResource | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (prefix: string, v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(prefix === '' ? k : `${prefix}.${k}`, x);
    else if (v !== undefined) out.set(prefix, JSON.stringify(v));
  };
  walk('', (r as { spec?: unknown } | undefined)?.spec);
  return out;
}

function fieldChanges(before: CalicoResource | undefined, after: CalicoResource | undefined): FieldChange[] {
  const a = flatSpec(before);
  const b = flatSpec(after);
  const out: FieldChange[] = [];
  for (const field of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const from = a.get(field) ?? '';
    const to = b.get(field) ?? '';
    if (from !== to) out.push({ field: `spec.${field}`, from, to });
  }
  return out;
}

interface Draft {
  readonly errors: FieldError[];
  readonly changes: SettingsChange[];
  readonly ops: ResourceOp[];
}

/**
 * Validates `resource` with the model's schema (the one `brindle ctl` and the agents use, so
 * the same messages), maps each issue to a form field with `fieldOf`, and records the write or
 * nothing when it equals `current`.
 */
function put(d: Draft, current: CalicoResource | undefined, resource: CalicoResource, fieldOf: (path: string) => string): void {
  let valid: CalicoResource;
  try {
    valid = validateResource(resource);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    for (const i of err.issues) d.errors.push({ field: fieldOf(i.path), message: i.message });
    return;
  }
  const fields = fieldChanges(current, valid);
  // Nothing differs (or a new resource would be empty: the defaults already hold).
  if (fields.length === 0) return;
  const version = (current?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  const metadata = { ...(current?.metadata ?? {}), ...valid.metadata, ...(version === undefined ? {} : { resourceVersion: version }) };
  d.changes.push({ action: current === undefined ? 'create' : 'update', kind: valid.kind, name: valid.metadata.name, fields });
  d.ops.push({ action: current === undefined ? 'create' : 'replace', resource: { ...valid, metadata } as CalicoResource });
}

function remove(d: Draft, current: CalicoResource): void {
  const version = (current.metadata as { resourceVersion?: string }).resourceVersion;
  d.changes.push({ action: 'delete', kind: current.kind, name: current.metadata.name, fields: fieldChanges(current, undefined) });
  d.ops.push({ action: 'delete', ref: { kind: current.kind, name: current.metadata.name }, ...(version === undefined ? {} : { resourceVersion: version }) });
}

function duplicateNames(list: readonly { name: string }[], field: string, errors: FieldError[]): void {
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (seen.has(item.name)) errors.push({ field: `${field}[${i}].name`, message: 'another entry has this name' });
    seen.add(item.name);
  });
}

const doc = (kind: string, name: string, spec: object): CalicoResource => ({ apiVersion: API_VERSION, kind, metadata: { name }, spec }) as CalicoResource;

/**
 * What applying `desired` over the resources of `s` would write: field errors (each issue of
 * the model's validation, named by form field), the changes per resource for the preview, and
 * the ops, each a compare-and-swap on the resourceVersion read. Fields the page does not show
 * are kept as they are. Pure.
 */
export function planSettings(s: SettingsSnapshot, desired: SettingsForm): SettingsPlan {
  const d: Draft = { errors: [], changes: [], ops: [] };
  const warnings: string[] = [];
  const stored = readSettingsForm(s);

  // BGPConfiguration default: the AS and the mesh.
  const bgp = byName(s.bgpConfigurations, 'default');
  if (desired.asNumber.trim() === '') d.errors.push({ field: 'asNumber', message: 'must be set' });
  else {
    const asUnchanged = bgp?.spec.asNumber === undefined && desired.asNumber.trim() === stored.asNumber;
    const spec = {
      ...(bgp?.spec ?? {}),
      ...(asUnchanged ? {} : { asNumber: asValue(desired.asNumber) }),
      ...(bgp?.spec.nodeToNodeMeshEnabled === undefined && desired.mesh ? {} : { nodeToNodeMeshEnabled: desired.mesh }),
    };
    put(d, bgp, doc('BGPConfiguration', 'default', spec), (p) => (p === 'spec.asNumber' ? 'asNumber' : p === 'spec.nodeToNodeMeshEnabled' ? 'mesh' : p));
  }

  // Reflectors: each Node's routeReflectorClusterID.
  const known = new Set(s.nodes.map((n) => n.metadata.name));
  for (const name of desired.reflectorNodes)
    if (!known.has(name)) d.errors.push({ field: 'reflectorNodes', message: `no node is named ${JSON.stringify(name)}` });
  const clusterId = desired.reflectorClusterId.trim();
  // A cluster id typed in goes to every reflector; left as it was, each keeps its own (one per rack, say).
  const idTyped = clusterId !== stored.reflectorClusterId;
  if (desired.reflectorNodes.length > 0 && !isClusterId(clusterId))
    d.errors.push({ field: 'reflectorClusterId', message: 'must be an IPv4 address or a number up to 4294967295 (BIRD takes either as a cluster id)' });
  else {
    const reflecting = new Set(desired.reflectorNodes);
    for (const node of sortByName(s.nodes)) {
      const own = node.spec.bgp?.routeReflectorClusterID ?? '';
      const want = reflecting.has(node.metadata.name) ? (idTyped || own === '' ? clusterId : own) : undefined;
      const have = node.spec.bgp?.routeReflectorClusterID;
      if ((have ?? '') === (want ?? '')) continue;
      const { routeReflectorClusterID: _old, ...bgpRest } = node.spec.bgp ?? {};
      const spec = { ...node.spec, bgp: { ...bgpRest, ...(want === undefined ? {} : { routeReflectorClusterID: want }) } };
      put(d, node, { ...node, spec }, () => 'reflectorNodes');
    }
  }
  if (!desired.mesh && desired.reflectorNodes.length === 0)
    warnings.push('With the full mesh off and no route reflectors, hosts peer only with external peers: VMs on different hosts will not reach each other.');

  // External peers: BGPPeers by name.
  duplicateNames(desired.externalPeers, 'externalPeers', d.errors);
  const wantedPeers = new Set<string>();
  desired.externalPeers.forEach((p, i) => {
    wantedPeers.add(p.name);
    const current = byName(s.bgpPeers, p.name);
    if (current !== undefined && !isExternalPeer(current)) {
      d.errors.push({ field: `externalPeers[${i}].name`, message: 'a BGPPeer of this name peers by selector, not with a router: choose another name' });
      return;
    }
    const { node: _n, nodeSelector: _s, peerIP: _p, asNumber: _a, ...kept } = current?.spec ?? {};
    const spec = {
      ...kept,
      peerIP: p.peerIP.trim(),
      asNumber: asValue(p.asNumber),
      ...(p.node.trim() === '' ? {} : { node: p.node.trim() }),
      ...(p.nodeSelector.trim() === '' ? {} : { nodeSelector: p.nodeSelector.trim() }),
    };
    const field = (path: string): string => {
      const leaf = path.replace(/^spec\./, '').replace(/^metadata\./, '');
      return `externalPeers[${i}].${['name', 'peerIP', 'asNumber', 'node', 'nodeSelector'].includes(leaf) ? leaf : 'peerIP'}`;
    };
    put(d, current, doc('BGPPeer', p.name, spec), field);
  });
  for (const p of sortByName(s.bgpPeers)) if (isExternalPeer(p) && !wantedPeers.has(p.metadata.name)) remove(d, p);

  // IP pools: by name.
  duplicateNames(desired.ipPools, 'ipPools', d.errors);
  const wantedPools = new Set<string>();
  desired.ipPools.forEach((p, i) => {
    wantedPools.add(p.name);
    const current = byName(s.ipPools, p.name);
    const { natOutgoing: _n, disabled: _d, cidr: _c, ...kept } = current?.spec ?? { cidr: '' };
    const spec = { ...kept, cidr: p.cidr.trim(), ...(p.natOutgoing ? { natOutgoing: true } : {}), ...(p.disabled ? { disabled: true } : {}) };
    const field = (path: string): string => `ipPools[${i}].${path === 'metadata.name' ? 'name' : 'cidr'}`;
    put(d, current, doc('IPPool', p.name, spec), field);
  });
  for (const p of sortByName(s.ipPools)) if (!wantedPools.has(p.metadata.name)) remove(d, p);

  // FelixConfiguration default: IPv6.
  const felix = byName(s.felixConfigurations, 'default');
  if ((felix?.spec.ipv6Support ?? true) !== desired.ipv6)
    put(d, felix, doc('FelixConfiguration', 'default', { ...(felix?.spec ?? {}), ipv6Support: desired.ipv6 }), () => 'ipv6');

  return d.errors.length > 0 ? { errors: d.errors, changes: [], warnings, ops: [] } : { errors: [], changes: d.changes, warnings, ops: d.ops };
}
