/**
 * Small builders for iptables-restore text fragments shared by the renderers: mark tests and
 * mark writes (hex, `value/mask`), multiport port lists and their 15-slot split, and joining
 * optional fragments. Kept in one object so every renderer spells a fragment the same way.
 */
import type { PortRange } from '../calc/model.js';

/** iptables' limit on "slots" in one `-m multiport` match; a range takes two. */
const MULTIPORT_SLOTS = 15;

function hex(value: number): string {
  return value === 0 ? '0' : `0x${value.toString(16)}`;
}

function portText(range: PortRange): string {
  return range.first === range.last ? `${range.first}` : `${range.first}:${range.last}`;
}

/** Splits a port list into groups that each fit one multiport match, keeping the order. */
function splitPorts(ranges: readonly PortRange[]): PortRange[][] {
  const groups: PortRange[][] = [];
  let current: PortRange[] = [];
  let free = MULTIPORT_SLOTS;
  for (const range of ranges) {
    const slots = range.first === range.last ? 1 : 2;
    if (slots > free) {
      groups.push(current);
      current = [];
      free = MULTIPORT_SLOTS;
    }
    current.push(range);
    free -= slots;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export const ipt = {
  hex,
  /** `-j MARK --set-mark V/V`. */
  setMark: (bits: number): string => `-j MARK --set-mark ${hex(bits)}/${hex(bits)}`,
  /** `-j MARK --set-mark value/mask`. */
  setMaskedMark: (value: number, mask: number): string => `-j MARK --set-mark ${hex(value)}/${hex(mask)}`,
  /** `-j MARK --set-mark 0/V`. */
  clearMark: (bits: number): string => `-j MARK --set-mark 0/${hex(bits)}`,
  /** Match: all of `bits` set. */
  markSet: (bits: number): string => `-m mark --mark ${hex(bits)}/${hex(bits)}`,
  /** Match: all of `bits` clear. */
  markClear: (bits: number): string => `-m mark --mark 0/${hex(bits)}`,
  /** `-m multiport [!] --source-ports|--destination-ports a,b:c` (caller keeps it ≤ 15 slots). */
  multiport: (side: 'source' | 'destination', ranges: readonly PortRange[], negated = false): string =>
    `-m multiport ${negated ? '! ' : ''}--${side}-ports ${ranges.map(portText).join(',')}`,
  /** One single-port multiport match, as Felix writes even lone ports. */
  port: (side: 'source' | 'destination', port: number): string => `-m multiport --${side}-ports ${port}`,
  splitPorts,
  /** Joins the non-empty fragments with single spaces. */
  join: (...fragments: readonly (string | undefined | false)[]): string => fragments.filter((f): f is string => typeof f === 'string' && f !== '').join(' '),
  /** True for an IPv6 address or CIDR (the only test the renderers need). */
  isV6: (addressOrCidr: string): boolean => addressOrCidr.includes(':'),
  /** `a.b.c.d` → `a.b.c.d/32` (`/128` for v6); a CIDR is returned as is. */
  hostCidr: (address: string): string => (address.includes('/') ? address : `${address}/${address.includes(':') ? 128 : 32}`),
  /** `a.b.c.d/32` → `a.b.c.d`; a bare address is returned as is. */
  bareAddress: (address: string): string => address.replace(/\/(32|128)$/, ''),
};
