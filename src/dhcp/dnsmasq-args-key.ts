import { createHash } from 'node:crypto';

/** A digest of a dnsmasq command line: dnsmasq is restarted exactly when it changes. */
export function dnsmasqArgsKey(args: readonly string[]): string {
  return createHash('sha256').update(args.join('\0')).digest('hex').slice(0, 16);
}
