import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

/** A parsed address in canonical text form (IPv6 compressed, lower case). */
export interface ParsedIp {
  readonly family: IpFamily;
  readonly address: string;
}

/** A parsed CIDR; `network` is the address with host bits cleared. */
export interface ParsedCidr {
  readonly family: IpFamily;
  readonly address: string;
  readonly prefixLength: number;
  readonly network: string;
}

/** Parses a plain IPv4 (dotted quad only) or IPv6 address; undefined if it is not one. */
export function parseIp(text: string): ParsedIp | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { family: 4, address: ipaddr.IPv4.parse(text).toString() };
  }
  if (text.includes(':') && ipaddr.IPv6.isValid(text) && !text.includes('%')) {
    return { family: 6, address: ipaddr.IPv6.parse(text).toString() };
  }
  return undefined;
}

/** Parses `address/prefix`; undefined if malformed or the prefix is out of range. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > (ip.family === 4 ? 32 : 128)) return undefined;
  const network = ipaddr.parse(ip.address);
  const bytes = network.toByteArray();
  for (let bit = prefixLength; bit < bytes.length * 8; bit++) {
    const i = Math.floor(bit / 8);
    bytes[i] = (bytes[i] ?? 0) & ~(0x80 >> (bit % 8));
  }
  return { family: ip.family, address: ip.address, prefixLength, network: ipaddr.fromByteArray(bytes).toString() };
}

/** A CIDR, or a plain address taken as a host route (/32 or /128). */
export function parseCidrOrIp(text: string): ParsedCidr | undefined {
  if (text.includes('/')) return parseCidr(text);
  const ip = parseIp(text);
  if (ip === undefined) return undefined;
  const prefixLength = ip.family === 4 ? 32 : 128;
  return { family: ip.family, address: ip.address, prefixLength, network: ip.address };
}

/** The host-route CIDR for an address: `a.b.c.d/32` or `x::y/128`. */
export function hostCidr(ip: ParsedIp): string {
  return `${ip.address}/${ip.family === 4 ? 32 : 128}`;
}
