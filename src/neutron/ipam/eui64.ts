import { bigIntToIp, cidrToRange } from './ip-range.js';

/** The SLAAC address of a MAC in a /64 (modified EUI-64: flip the U/L bit, insert ff:fe). */
export function eui64Address(cidr: string, mac: string): string | undefined {
  const range = cidrToRange(cidr);
  const bytes = mac.split(/[:-]/).map((b) => Number.parseInt(b, 16));
  if (range === undefined || range.family !== 6 || range.prefixLength !== 64 || bytes.length !== 6 || bytes.some((b) => Number.isNaN(b))) return undefined;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0] = bytes;
  const iid = [a ^ 0x02, b, c, 0xff, 0xfe, d, e, f].reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  return bigIntToIp(6, range.first | iid);
}
