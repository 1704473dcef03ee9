import type { CalicoNodeStatus } from '../../model/index.js';

type Status = NonNullable<CalicoNodeStatus['status']>;
type BirdInfo = NonNullable<NonNullable<Status['agent']>['birdV4']>;
type Peer = NonNullable<NonNullable<Status['bgp']>['peersV4']>[number];

/** calicoctl's words for the peer types. */
const PEER_TYPE_WORDS: Record<Peer['type'], string> = {
  NodeMesh: 'node-to-node mesh',
  GlobalPeer: 'global',
  NodePeer: 'node specific',
  RouteReflector: 'route reflector',
  RouteReflectorClient: 'rr client',
};

const HEADERS = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];

/** How many stale update periods make a status suspect. */
const STALE_PERIODS = 3;

function ageSeconds(resource: CalicoNodeStatus, nowMs: number): number | undefined {
  const at = resource.status?.lastUpdated;
  if (at === undefined) return undefined;
  const t = Date.parse(at);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.round((nowMs - t) / 1000));
}

function duration(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function birdPhrase(info: BirdInfo | undefined, which: string): string {
  if (info === undefined) return `BIRD${which} status unknown`;
  const details = [info.version, info.routerID === undefined ? undefined : `router id ${info.routerID}`].filter((d) => d !== undefined);
  const state = info.state === 'Ready' ? 'is running' : 'is not ready';
  return `BIRD${which} ${state}${details.length === 0 ? '' : ` (${details.join(', ')})`}`;
}

function sameBird(a: BirdInfo | undefined, b: BirdInfo | undefined): boolean {
  return b === undefined || (a !== undefined && a.state === b.state && a.version === b.version && a.routerID === b.routerID);
}

function headline(resource: CalicoNodeStatus, nowMs: number): string {
  const agent = resource.status?.agent;
  const bird = sameBird(agent?.birdV4, agent?.birdV6)
    ? birdPhrase(agent?.birdV4, '')
    : `${birdPhrase(agent?.birdV4, ' (IPv4)')}; ${birdPhrase(agent?.birdV6, ' (IPv6)')}`;
  const age = ageSeconds(resource, nowMs);
  return `Brindle node ${resource.spec.node}: ${bird}, ${age === undefined ? 'status time unknown' : `status ${duration(age)} old`}`;
}

/** A table bordered like calicoctl's (tablewriter): centred headings, left-aligned cells. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const centre = (h: string, w: number): string => {
    const left = Math.floor((w - h.length) / 2);
    return `${' '.repeat(left)}${h}${' '.repeat(w - h.length - left)}`;
  };
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [
    border,
    line(HEADERS.map((h, i) => centre(h, widths[i] ?? 0))),
    border,
    ...rows.map((r) => line(widths.map((w, i) => (r[i] ?? '').padEnd(w)))),
    border,
  ].join('\n');
}

function section(family: 'IPv4' | 'IPv6', peers: readonly Peer[] | undefined): string {
  if (peers === undefined || peers.length === 0) return `${family} BGP status\nNo ${family} peers found.\n`;
  const rows = peers.map((p) => [p.peerIP, PEER_TYPE_WORDS[p.type], p.state, p.since ?? '', p.info ?? '']);
  return `${family} BGP status\n${table(rows)}\n`;
}

/** Renders a node's status the way `calicoctl node status` does: BIRD, then IPv4 and IPv6 peers. */
export function formatNodeStatus(resource: CalicoNodeStatus, nowMs: number): string {
  const bgp = resource.status?.bgp;
  const rejected = resource.status?.agent?.birdV4?.lastConfigError ?? resource.status?.agent?.birdV6?.lastConfigError;
  const warning = rejected === undefined ? '' : `\nWARNING: ${rejected}\n`;
  return `${headline(resource, nowMs)}\n${warning}\n${section('IPv4', bgp?.peersV4)}\n${section('IPv6', bgp?.peersV6)}`;
}

/** A warning when the status is older than 3 update periods (the agent may be down); else undefined. */
export function staleStatusWarning(resource: CalicoNodeStatus, nowMs: number): string | undefined {
  const period = resource.spec.updatePeriodSeconds ?? 0;
  const age = ageSeconds(resource, nowMs);
  if (period <= 0 || age === undefined || age <= STALE_PERIODS * period) return undefined;
  return `warning: the status of node ${resource.spec.node} is ${duration(age)} old, more than ${STALE_PERIODS} × its update period of ${period}s: is brindle node still running there?`;
}
