/** A CIDR in the form the kernel tools print it back (`ipset save`, `ip -j route`). */
export interface KernelCidr {
  readonly family: 4 | 6;
  /** Network address (host bits cleared), formatted as glibc's inet_ntop does. */
  readonly address: string;
  readonly prefixLength: number;
  /** `address/prefix`, always with the prefix: what we write in commands. */
  readonly full: string;
  /** `address` alone for a host prefix (/32, /128), else `address/prefix`: what the tools print. */
  readonly printed: string;
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256)) return undefined;
  return parts.map(Number);
}

/** IPv6 text (with `::` and an optional trailing dotted quad) to 16 bytes, as inet_pton reads it. */
function parseV6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words = (half: string | undefined): number[] | undefined => {
    if (half === undefined || half === '') return [];
    const out: number[] = [];
    const groups = half.split(':');
    for (const [i, g] of groups.entries()) {
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (v4 === undefined) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = words(halves[0]);
  const tail = words(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  const gap = 8 - head.length - tail.length;
  if (halves.length === 2 ? gap < 1 : gap !== 0) return undefined;
  const all = [...head, ...new Array<number>(gap).fill(0), ...tail];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

function parseAddress(text: string): { family: 4 | 6; bytes: number[] } | undefined {
  const v4 = parseV4(text);
  if (v4 !== undefined) return { family: 4, bytes: v4 };
  const v6 = text.includes(':') ? parseV6(text) : undefined;
  return v6 === undefined ? undefined : { family: 6, bytes: v6 };
}

/** IPv6 text as glibc prints it: longest (first) run of ≥2 zero words as `::`, embedded IPv4 forms. */
function formatV6(bytes: readonly number[]): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      return out + bytes.slice(12, 16).join('.');
    }
    out += (words[i] ?? 0).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/**
 * Parses `address[/prefix]` (a bare address is a host prefix) into the kernel's printed form, or
 * undefined when malformed. Host bits are cleared, as the kernel does when it stores a net.
 */
export function kernelCidr(text: string): KernelCidr | undefined {
  const slash = text.indexOf('/');
  const parsed = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (parsed === undefined) return undefined;
  const max = parsed.family === 4 ? 32 : 128;
  let prefixLength = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return undefined;
    prefixLength = Number(lenText);
  }
  const bytes = parsed.bytes.map((b, i) => {
    const keep = Math.min(8, Math.max(0, prefixLength - i * 8));
    return b & ((0xff00 >> keep) & 0xff);
  });
  const address = parsed.family === 4 ? bytes.join('.') : formatV6(bytes);
  const full = `${address}/${prefixLength}`;
  return { family: parsed.family, address, prefixLength, full, printed: prefixLength === max ? address : full };
}
