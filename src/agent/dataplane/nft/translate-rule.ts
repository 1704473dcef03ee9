/**
 * Translates one rule of the renderer (`IptRule`, iptables-restore syntax) into an nft rule body
 * for Brindle's own table. The renderer's vocabulary is small and closed (rules/ builds every
 * fragment through `ipt.ts` or a literal), so this reads only what the renderer writes and throws
 * `NftTranslateError` on anything else: a new rule shape must be taught here, with a test, before
 * it can reach an nft host. It never parses iptables-save output (that does not round-trip).
 *
 * Semantics kept: matches are ANDed in order; `!` negates the next match; multiport lists become
 * anonymous sets; `--ctstate DNAT` (a conntrack status in nft) becomes `ct status dnat`; marks
 * are `value/mask` tests and `meta mark set meta mark & ~mask | value`; `-m rpfilter --validmark
 * --invert` is a FIB lookup of the source with the mark and the input interface that finds no
 * output interface.
 */
import type { IptRule, TableName } from '../iptables/chain.js';
import { NftTranslateError } from '../../errors.js';
import { nftChainName, nftSetName } from './nft-names.js';

const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];

/** Splits on spaces, keeping `"quoted strings"` (without their quotes) as one token. */
function tokens(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** `0x10000/0x10000` → [value, mask]. */
function markPair(text: string | undefined, rule: string): [number, number] {
  const m = /^(0x[0-9a-f]+|\d+)\/(0x[0-9a-f]+|\d+)$/i.exec(text ?? '');
  if (m === null) throw new NftTranslateError(rule, `mark ${text ?? '(missing)'}`);
  return [Number(m[1]), Number(m[2])];
}

function portList(text: string | undefined, rule: string): string {
  if (text === undefined || !/^\d+(:\d+)?(,\d+(:\d+)?)*$/.test(text)) throw new NftTranslateError(rule, `ports ${text ?? '(missing)'}`);
  const items = text.split(',').map((p) => p.replace(':', '-'));
  // One port or range is a plain (range) match; only a list needs an anonymous set.
  return items.length === 1 ? (items[0] ?? '') : `{ ${items.join(', ')} }`;
}

function quoted(s: string): string {
  return `"${s.replace(/["\\]/g, '_')}"`;
}

/** The interface name of `-i`/`-o`: `tap+` is iptables' prefix wildcard, `tap*` in nft. */
function ifname(text: string | undefined, rule: string): string {
  if (text === undefined || text === '') throw new NftTranslateError(rule, 'interface name missing');
  return quoted(text.endsWith('+') ? `${text.slice(0, -1)}*` : text);
}

/** As ip(6)tables reads `-p`: `icmp` is protocol 1 in both families (never seen in IPv6). */
function protocolName(p: string): string {
  return p === 'icmpv6' ? 'ipv6-icmp' : p;
}

export interface TranslateContext {
  readonly family: 4 | 6;
  /** The iptables table the rule was rendered for (names its chains). */
  readonly table: TableName;
}

function translateMatch(match: string, ctx: TranslateContext, whole: string): string[] {
  const ip = ctx.family === 4 ? 'ip' : 'ip6';
  const t = tokens(match);
  const out: string[] = [];
  let i = 0;
  const next = (): string | undefined => t[i++];
  let negate = false;
  const op = (): string => (negate ? '!= ' : '');
  while (i < t.length) {
    const tok = next();
    switch (tok) {
      case '!':
        negate = true;
        continue;
      case '-p':
        out.push(`meta l4proto ${op()}${protocolName(next() ?? '')}`);
        break;
      case '-i':
        out.push(`iifname ${op()}${ifname(next(), whole)}`);
        break;
      case '-o':
        out.push(`oifname ${op()}${ifname(next(), whole)}`);
        break;
      case '--source':
      case '-s':
        out.push(`${ip} saddr ${op()}${next() ?? ''}`);
        break;
      case '--destination':
      case '-d':
        out.push(`${ip} daddr ${op()}${next() ?? ''}`);
        break;
      case '-m': {
        const module = next();
        if (
          module === 'multiport' ||
          module === 'mark' ||
          module === 'set' ||
          module === 'conntrack' ||
          module === 'icmp' ||
          module === 'icmp6' ||
          module === 'rpfilter'
        )
          break;
        throw new NftTranslateError(whole, `match module ${module ?? '(missing)'}`);
      }
      case '--source-ports':
      case '--destination-ports':
        out.push(`th ${tok === '--source-ports' ? 'sport' : 'dport'} ${op()}${portList(next(), whole)}`);
        break;
      case '--mark': {
        const [value, mask] = markPair(next(), whole);
        out.push(`meta mark & ${hex(mask)} ${negate ? '!=' : '=='} ${hex(value)}`);
        break;
      }
      case '--match-set': {
        const name = next();
        const dir = next();
        if (name === undefined || (dir !== 'src' && dir !== 'dst')) throw new NftTranslateError(whole, 'set match');
        out.push(`${ip} ${dir === 'src' ? 'saddr' : 'daddr'} ${op()}@${nftSetName(name)}`);
        break;
      }
      case '--ctstate': {
        const states = (next() ?? '').split(',').map((s) => s.toLowerCase());
        if (states.length === 1 && states[0] === 'dnat') {
          out.push(`ct status ${negate ? '& dnat == 0' : 'dnat'}`);
        } else if (negate && states.length > 1) {
          throw new NftTranslateError(whole, 'negated list of ctstates');
        } else if (states.every((s) => s === 'related' || s === 'established' || s === 'invalid' || s === 'new' || s === 'untracked')) {
          // A flag list, not `{ … }`: an anonymous set per rule costs the kernel a set object
          // each (10,000 endpoint chains made a cold start 9x slower).
          out.push(`ct state ${op()}${states.join(',')}`);
        } else throw new NftTranslateError(whole, `ctstate ${states.join(',')}`);
        break;
      }
      case '--icmp-type':
      case '--icmpv6-type': {
        const proto = tok === '--icmp-type' ? 'icmp' : 'icmpv6';
        const [type, code] = (next() ?? '').split('/');
        if (type === undefined || !/^\d+$/.test(type) || (code !== undefined && !/^\d+$/.test(code))) throw new NftTranslateError(whole, 'icmp type');
        if (code === undefined) out.push(`${proto} type ${op()}${type}`);
        else if (negate) out.push(`${proto} type . ${proto} code != { ${type} . ${code} }`);
        else out.push(`${proto} type ${type} ${proto} code ${code}`);
        break;
      }
      case '--validmark':
        break;
      case '--invert':
        // -m rpfilter --validmark --invert: the source is not reachable back through the input interface.
        out.push('fib saddr . mark . iif oif 0');
        break;
      default:
        throw new NftTranslateError(whole, `match ${tok ?? ''}`);
    }
    negate = false;
  }
  return out;
}

function translateAction(action: string, ctx: TranslateContext, whole: string): string {
  const t = tokens(action);
  const kind = t[0];
  const target = t[1];
  if (kind !== '-j' && kind !== '-g') throw new NftTranslateError(whole, 'no -j/-g');
  if (target === undefined) throw new NftTranslateError(whole, 'target missing');
  const rest = t.slice(2);
  const option = (name: string): string | undefined => {
    const at = rest.indexOf(name);
    return at < 0 ? undefined : rest[at + 1];
  };
  if (target.startsWith('cali-')) return `${kind === '-g' ? 'goto' : 'jump'} ${nftChainName(ctx.table, target)}`;
  if (kind === '-g') throw new NftTranslateError(whole, `goto ${target}`);
  switch (target) {
    case 'ACCEPT':
      return 'accept';
    case 'DROP':
      return 'drop';
    case 'RETURN':
      return 'return';
    case 'REJECT':
      return 'reject';
    case 'MARK': {
      const [value, mask] = markPair(option('--set-mark'), whole);
      const keep = ~mask >>> 0;
      return value === 0 ? `meta mark set meta mark & ${hex(keep)}` : `meta mark set meta mark & ${hex(keep)} | ${hex(value)}`;
    }
    case 'LOG': {
      const level = LOG_LEVELS[Number(option('--log-level') ?? 4)] ?? 'warn';
      return `log prefix ${quoted(option('--log-prefix') ?? '')} level ${level}`;
    }
    case 'DNAT': {
      const to = option('--to-destination');
      if (to === undefined) throw new NftTranslateError(whole, 'DNAT without --to-destination');
      return `dnat to ${to}`;
    }
    case 'SNAT': {
      const to = option('--to-source');
      if (to === undefined) throw new NftTranslateError(whole, 'SNAT without --to-source');
      return `snat to ${to}`;
    }
    case 'MASQUERADE':
      return rest.includes('--random-fully') ? 'masquerade fully-random' : 'masquerade';
    default:
      throw new NftTranslateError(whole, `target ${target}`);
  }
}

/**
 * The nft rule body of `rule`, without a comment: its matches, a `counter` (iptables counts every
 * rule; operators read them), then the verdict or statement.
 */
export function translateRule(rule: IptRule, ctx: TranslateContext): string {
  const whole = `${rule.match} ${rule.action}`.trim();
  return [...translateMatch(rule.match, ctx, whole), 'counter', translateAction(rule.action, ctx, whole)].join(' ');
}
