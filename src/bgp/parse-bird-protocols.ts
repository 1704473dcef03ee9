import type { BirdReply } from './bird-reply.js';

/** A protocol's channel (`show protocols all`): its route counts from the `Routes:` line. */
export interface BirdChannel {
  /** `ipv4`, `ipv6`, ... */
  readonly name: string;
  readonly state?: string;
  readonly table?: string;
  readonly imported?: number;
  readonly filtered?: number;
  readonly exported?: number;
  readonly preferred?: number;
}

/** The BGP part of `show protocols all`. */
export interface BirdBgpDetails {
  /** Session state: Idle, Connect, Active, OpenSent, OpenConfirm, Established, Close, Down. */
  readonly state: string;
  readonly neighborAddress?: string;
  readonly neighborAs?: number;
  readonly localAs?: number;
  readonly neighborId?: string;
  readonly sourceAddress?: string;
  /** e.g. `Socket: Connection refused`, `Received: Administrative shutdown`. */
  readonly lastError?: string;
}

/** One protocol row of `show protocols [all]`, with its details when `all` was asked for. */
export interface BirdProtocol {
  readonly name: string;
  /** BGP, Kernel, Device, Direct, Static, ... */
  readonly proto: string;
  /** `---` when the protocol has several channels or none. */
  readonly table: string;
  /** up, down, start, stop, flush. */
  readonly state: string;
  /** As BIRD prints it (its `timeformat protocol`; `iso long` gives `2026-12-06 03:16:16`). */
  readonly since: string;
  /** The first part of the info column: for BGP the session state (Established, Active, ...). */
  readonly info: string;
  /** The rest of the info column: for BGP the last error, e.g. `Socket: Connection refused`. */
  readonly infoDetail?: string;
  readonly bgp?: BirdBgpDetails;
  readonly channels: readonly BirdChannel[];
}

const SINCE = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+`;
const ROW = new RegExp(String.raw`^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(${SINCE})(?:\s+(.*))?$`);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function parseRow(text: string): Mutable<BirdProtocol> | undefined {
  const m = ROW.exec(text);
  if (m === null) return undefined;
  const infoColumn = (m[6] ?? '').trim();
  const gap = /\s{2,}/.exec(infoColumn);
  const info = gap === null ? infoColumn : infoColumn.slice(0, gap.index);
  const detail = gap === null ? '' : infoColumn.slice(gap.index).trim();
  return {
    name: m[1] ?? '',
    proto: m[2] ?? '',
    table: m[3] ?? '',
    state: m[4] ?? '',
    since: m[5] ?? '',
    info,
    ...(detail === '' ? {} : { infoDetail: detail }),
    channels: [],
  };
}

const BGP_FIELDS: readonly [RegExp, keyof BirdBgpDetails, 'string' | 'number'][] = [
  [/^BGP state:\s+(\S+)$/, 'state', 'string'],
  [/^Neighbor address:\s+(\S+)$/, 'neighborAddress', 'string'],
  [/^Neighbor AS:\s+(\d+)$/, 'neighborAs', 'number'],
  [/^Local AS:\s+(\d+)$/, 'localAs', 'number'],
  [/^Neighbor ID:\s+(\S+)$/, 'neighborId', 'string'],
  [/^Source address:\s+(\S+)$/, 'sourceAddress', 'string'],
  [/^Last error:\s+(.+)$/, 'lastError', 'string'],
];

function routeCounts(text: string): Partial<Pick<BirdChannel, 'imported' | 'filtered' | 'exported' | 'preferred'>> {
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/(\d+) (imported|filtered|exported|preferred)/g)) counts[m[2] ?? ''] = Number(m[1]);
  return counts;
}

/** Reads the detail lines (code 1006) of one protocol into it. */
function addDetail(p: Mutable<BirdProtocol>, text: string, bgp: Partial<Record<keyof BirdBgpDetails, string | number>>): void {
  const t = text.trim();
  const channel = /^Channel (\S+)$/.exec(t);
  if (channel !== null) {
    p.channels = [...p.channels, { name: channel[1] ?? '' }];
    return;
  }
  const last = p.channels.at(-1);
  if (last !== undefined) {
    const state = /^State:\s+(\S+)$/.exec(t)?.[1];
    const table = /^Table:\s+(\S+)$/.exec(t)?.[1];
    const routes = /^Routes:\s+(.+)$/.exec(t)?.[1];
    const more = {
      ...(state === undefined ? {} : { state }),
      ...(table === undefined ? {} : { table }),
      ...(routes === undefined ? {} : routeCounts(routes)),
    };
    if (Object.keys(more).length > 0) p.channels = [...p.channels.slice(0, -1), { ...last, ...more }];
    return;
  }
  for (const [re, key, type] of BGP_FIELDS) {
    const m = re.exec(t);
    if (m?.[1] !== undefined) bgp[key] = type === 'number' ? Number(m[1]) : m[1];
  }
}

/**
 * Parses BIRD 2's reply to `show protocols` or `show protocols all`: the rows (code 1002, the
 * later ones as continuation lines when there are no details between them) and each row's
 * details (code 1006: BGP session, channels and their route counts).
 */
export function parseBirdProtocols(reply: BirdReply): BirdProtocol[] {
  const out: BirdProtocol[] = [];
  let current: Mutable<BirdProtocol> | undefined;
  let bgp: Partial<Record<keyof BirdBgpDetails, string | number>> = {};
  const finish = (): void => {
    if (current === undefined) return;
    if (typeof bgp.state === 'string') current.bgp = bgp as unknown as BirdBgpDetails;
    out.push(current);
    current = undefined;
    bgp = {};
  };
  for (const { code, text } of reply.lines) {
    if (code === 1002) {
      finish();
      current = parseRow(text);
    } else if (code === 1006 && current !== undefined) {
      addDetail(current, text, bgp);
    }
  }
  finish();
  return out;
}
