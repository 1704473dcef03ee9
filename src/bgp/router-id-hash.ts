/**
 * A stable IPv4-form router id for a node without an IPv4 address: the 32-bit FNV-1 hash of its
 * name, big-endian (what calico-node does with CALICO_ROUTER_ID=hash). Never 0.0.0.0, which BIRD
 * does not take as a router id.
 */
export function routerIdHash(nodeName: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(nodeName)) {
    hash = Math.imul(hash, 0x01000193) >>> 0;
    hash = (hash ^ byte) >>> 0;
  }
  if (hash === 0) hash = 1;
  return [hash >>> 24, (hash >>> 16) & 0xff, (hash >>> 8) & 0xff, hash & 0xff].join('.');
}
