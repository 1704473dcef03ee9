import ipaddr from 'ipaddr.js';
import { parseCidr, parseIp, type IpFamily } from '../../model/index.js';

/** An inclusive range of addresses of one family, as integers. */
export interface IpRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

export function ipToBigInt(ip: string): { family: IpFamily; value: bigint } | undefined {
  const parsed = parseIp(ip);
  if (parsed === undefined) return undefined;
  let value = 0n;
  for (const byte of ipaddr.parse(parsed.address).toByteArray()) value = (value << 8n) | BigInt(byte);
  return { family: parsed.family, value };
}

export function bigIntToIp(family: IpFamily, value: bigint): string {
  const bytes: number[] = [];
  let v = value;
  for (let i = 0; i < (family === 4 ? 4 : 16); i++) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** The whole of a CIDR as a range (network address to last address). */
export function cidrToRange(cidr: string): (IpRange & { prefixLength: number }) | undefined {
  const parsed = parseCidr(cidr);
  if (parsed === undefined) return undefined;
  const first = ipToBigInt(parsed.network)?.value ?? 0n;
  const bits = parsed.family === 4 ? 32 : 128;
  const size = 1n << BigInt(bits - parsed.prefixLength);
  return { family: parsed.family, first, last: first + size - 1n, prefixLength: parsed.prefixLength };
}

export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function rangeContains(r: IpRange, family: IpFamily, value: bigint): boolean {
  return r.family === family && r.first <= value && value <= r.last;
}

export function rangeSize(r: IpRange): bigint {
  return r.last - r.first + 1n;
}

/** A CIDR in canonical form (host bits cleared, IPv6 compressed); undefined if invalid. */
export function normalizeCidr(cidr: string): string | undefined {
  const p = parseCidr(cidr);
  return p === undefined ? undefined : `${p.network}/${p.prefixLength}`;
}
