/**
 * Names of the iptables chains and IP sets Brindle owns, computed the way Felix computes them so
 * that a ruleset written by either looks the same: chain names are at most 28 characters, long
 * suffixes are replaced by `_` + a truncated base64url SHA-256, IP set names are at most 31.
 */
import { createHash } from 'node:crypto';
import type { IpFamily } from '../calc/model.js';

/** iptables' chain name limit as Felix uses it (the kernel allows 28 + NUL). */
export const MAX_CHAIN_NAME_LENGTH = 28;
/** The kernel's ipset name limit (31 + NUL). */
export const MAX_IP_SET_NAME_LENGTH = 31;

/**
 * `prefix + suffix` when that fits in 28 characters; otherwise `prefix + '_' + hash(suffix)`
 * filling the 28. A suffix that fits exactly but starts with `_` is hashed too, so a readable
 * name can never equal a hashed one (hashed names always have exactly 28 characters).
 */
export function lengthLimitedName(prefix: string, suffix: string): string {
  const total = prefix.length + suffix.length;
  if (total < MAX_CHAIN_NAME_LENGTH || (total === MAX_CHAIN_NAME_LENGTH && !suffix.startsWith('_'))) {
    return prefix + suffix;
  }
  const room = MAX_CHAIN_NAME_LENGTH - prefix.length - 1;
  if (room < 1) throw new Error(`Chain name prefix too long: ${prefix}`);
  const hash = createHash('sha256').update(suffix, 'utf8').digest('base64url');
  return `${prefix}_${hash.slice(0, room)}`;
}

const POLICY_PREFIXES = {
  policy: { ingress: 'cali-pi-', egress: 'cali-po-' },
  profile: { ingress: 'cali-pri-', egress: 'cali-pro-' },
} as const;

/**
 * The chain of policy or profile `id` (`np/<ns>/<name>`, `gnp/<name>`, `pro/<name>`) for one
 * direction: `cali-pi-`/`cali-po-` for policies, `cali-pri-`/`cali-pro-` for profiles, with the
 * id after its first `/` as the (length-limited) suffix.
 */
export function policyChainName(id: string, dir: 'ingress' | 'egress'): string {
  const slash = id.indexOf('/');
  const kind = slash < 0 ? '' : id.slice(0, slash);
  const rest = id.slice(slash + 1);
  if (rest === '') throw new Error(`Policy id without a name: ${id}`);
  switch (kind) {
    case 'np':
    case 'gnp':
      return lengthLimitedName(POLICY_PREFIXES.policy[dir], rest);
    case 'pro':
      return lengthLimitedName(POLICY_PREFIXES.profile[dir], rest);
    default:
      throw new Error(`Policy id of unknown kind: ${id}`);
  }
}

/** `cali-tw-<iface>` (to the VM: ingress policy) and `cali-fw-<iface>` (from the VM: egress). */
export function endpointChainNames(iface: string): { readonly to: string; readonly from: string } {
  return { to: lengthLimitedName('cali-tw-', iface), from: lengthLimitedName('cali-fw-', iface) };
}

/** The kernel name of IP set `id`: `cali40<id>` / `cali60<id>`, cut to 31 characters. */
export function ipSetName(id: string, family: IpFamily): string {
  return `cali${family}0${id}`.slice(0, MAX_IP_SET_NAME_LENGTH);
}
