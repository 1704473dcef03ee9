import { z } from 'zod';
import type { Compare, KeyValue, TxnOp } from '../../datastore/index.js';
import { faults } from '../errors.js';
import { quotaKey, quotaUsageKey } from '../store/neutron-keys.js';
import type { NeutronDeps } from './neutron-deps.js';

export const QUOTA_RESOURCES = [
  'network',
  'subnet',
  'port',
  'security_group',
  'security_group_rule',
  'subnetpool',
  'rbac_policy',
  'router',
  'floatingip',
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type Quota = Record<QuotaResource, number>;

/** Unlimited (-1) unless an operator sets a limit: Nova then skips its port-count check. */
export const DEFAULT_QUOTA: Quota = {
  network: -1,
  subnet: -1,
  port: -1,
  security_group: -1,
  security_group_rule: -1,
  subnetpool: -1,
  rbac_policy: -1,
  router: -1,
  floatingip: -1,
};

/** The resources whose quota is held exactly, by a usage counter in each create's and delete's transaction. */
export const GUARDED = ['port', 'network'] as const;
export type GuardedResource = (typeof GUARDED)[number];

const COLLECTION: Record<GuardedResource, 'ports' | 'networks'> = { port: 'ports', network: 'networks' };

const quotaSchema = z.record(z.string(), z.number().int().min(-1));
const usageSchema = z.union([z.strictObject({ count: z.number().int() }), z.strictObject({ recountingSince: z.number() })]);
type Usage = z.infer<typeof usageSchema>;

/**
 * How long a server trusts a project's quota key it read. Staleness is safe: the transaction
 * compares the key's revision, and the retry that follows a failed compare reads it afresh.
 */
const QUOTA_CACHE_MS = 2_000;
const quotaCache = new WeakMap<object, Map<string, { kv: KeyValue | undefined; at: number }>>();

/** A project's quota key, from a 2-second cache unless `fresh`. */
export async function readQuotaKey(d: Pick<NeutronDeps, 'kv' | 'clock'>, project: string, fresh: boolean): Promise<KeyValue | undefined> {
  let cache = quotaCache.get(d.kv);
  if (cache === undefined) quotaCache.set(d.kv, (cache = new Map<string, { kv: KeyValue | undefined; at: number }>()));
  const hit = cache.get(project);
  const now = d.clock.monotonic();
  if (!fresh && hit !== undefined && now - hit.at < QUOTA_CACHE_MS) return hit.kv;
  const kv = await d.kv.get(quotaKey(project));
  if (cache.size > 10_000) cache.clear();
  cache.set(project, { kv, at: now });
  return kv;
}

/** Drops what this server remembers of a project's quota key (after changing it). */
export function forgetQuota(d: Pick<NeutronDeps, 'kv'>, project: string): void {
  quotaCache.get(d.kv)?.delete(project);
}

/** A recount older than this was abandoned (its server died): the next create takes it over. */
const STALE_RECOUNT_MS = 30_000;

/** A project's limits as stored (overrides over the defaults); a corrupt value counts as no overrides. */
export function parseStoredQuota(value: string | undefined): Quota {
  if (value === undefined) return { ...DEFAULT_QUOTA };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = {};
  }
  const stored = quotaSchema.safeParse(parsed);
  return { ...DEFAULT_QUOTA, ...(stored.success ? stored.data : {}) };
}

function parseUsage(kv: KeyValue | undefined): Usage | undefined {
  if (kv === undefined) return undefined;
  try {
    const r = usageSchema.safeParse(JSON.parse(kv.value));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** What a create or delete adds to its transaction to hold the project's quota. */
export interface QuotaTxnPart {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
}

/**
 * The compares and writes that make `delta` creates (> 0; a bulk create's several) or one delete (-1) of `resource` in
 * `project` hold to its quota, in the caller's own transaction:
 * - unlimited: the quota key must be as read (a limit set meanwhile makes the caller retry);
 * - limited: the usage counter must be as read, and is written as count + delta; a create that
 *   would pass the limit throws OverQuota. Two creates racing for the last unit cannot both
 *   commit: the second's compare on the counter fails and it retries, to find the quota used.
 * While the counter is being recounted (a limit was just set), creates are refused with a 409
 * to retry; a counter missing or left recounting by a server that died is recounted here.
 */
export interface QuotaChange {
  readonly project: string;
  readonly resource: GuardedResource;
  /** Creates (> 0) or -1 for a delete. */
  readonly delta: number;
  /** The caller's compare-and-swap attempt: a retry reads the quota key afresh. */
  readonly attempt?: number;
}

export async function quotaTxnPart(d: NeutronDeps, change: QuotaChange): Promise<QuotaTxnPart> {
  const { project, resource, delta, attempt = 0 } = change;
  // The quota key from a short cache on a first attempt (its compare catches a stale one).
  const quotaKv = await readQuotaKey(d, project, attempt > 0);
  const quotaCompare: Compare =
    quotaKv === undefined
      ? { key: quotaKey(project), target: 'version', op: '==', value: 0 }
      : { key: quotaKey(project), target: 'modRevision', op: '==', value: quotaKv.modRevision };
  const limit = parseStoredQuota(quotaKv?.value)[resource];
  if (limit < 0) return { compare: [quotaCompare], success: [] };
  const usageKv = await d.kv.get(quotaUsageKey(project, resource));
  const usage = parseUsage(usageKv);
  if (usageKv === undefined || usage === undefined || ('recountingSince' in usage && d.clock.now() - usage.recountingSince > STALE_RECOUNT_MS)) {
    await recountUsage(d, project, resource, usageKv);
    return quotaTxnPart(d, { ...change, attempt: attempt + 1 });
  }
  if ('recountingSince' in usage) {
    if (delta < 0) return { compare: [quotaCompare], success: [] };
    throw faults.quotaRecounting(resource, project);
  }
  if (delta > 0 && usage.count + delta > limit) throw faults.overQuota(resource);
  return {
    compare: [quotaCompare, { key: usageKv.key, target: 'modRevision', op: '==', value: usageKv.modRevision }],
    success: [{ op: 'put', key: usageKv.key, value: JSON.stringify({ count: Math.max(0, usage.count + delta) }) }],
  };
}

/**
 * Counts a project's `resource` afresh into its usage counter: marks the counter recounting
 * (guarded on it being as `seen`), lists, then writes the count guarded on the mark. Creates
 * wait out the mark (409); a delete during it is counted if the list saw it, so the count can
 * only be high by the deletes racing the recount, never low: the quota is never exceeded.
 */
export async function recountUsage(d: NeutronDeps, project: string, resource: GuardedResource, seen: KeyValue | undefined): Promise<void> {
  const key = quotaUsageKey(project, resource);
  const mark = await d.kv.put(key, JSON.stringify({ recountingSince: d.clock.now() }), {
    condition: seen === undefined ? { absent: true } : { modRevision: seen.modRevision },
  });
  if (!mark.succeeded) return; // another server is at it, or a create moved the counter: read again
  const count = (await d.store.list(COLLECTION[resource])).items.filter((o) => o.project_id === project).length;
  await d.kv.put(key, JSON.stringify({ count }), { condition: { modRevision: mark.revision } });
}

/** The usage counters to start (recount) and to drop when a project's limits change from `before` to `after`. */
export function usageChanges(before: Quota, after: Quota): { start: GuardedResource[]; drop: GuardedResource[] } {
  return {
    start: GUARDED.filter((r) => before[r] < 0 && after[r] >= 0),
    drop: GUARDED.filter((r) => before[r] >= 0 && after[r] < 0),
  };
}
