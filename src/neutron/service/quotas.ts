import { faults } from '../errors.js';
import { QUOTA_PREFIX, quotaKey, quotaUsageKey } from '../store/neutron-keys.js';
import { AGAIN, casRetry } from './cas-retry.js';
import type { NeutronDeps } from './neutron-deps.js';
import {
  forgetQuota,
  GUARDED,
  parseStoredQuota,
  readQuotaKey,
  QUOTA_RESOURCES,
  recountUsage,
  usageChanges,
  type Quota,
  type QuotaResource,
} from './quota-guard.js';

export { DEFAULT_QUOTA, QUOTA_RESOURCES, type Quota, type QuotaResource } from './quota-guard.js';

/** Per-project quotas: stored overrides over the defaults, enforced on create when set. */
export class QuotaService {
  readonly #d: NeutronDeps;

  constructor(deps: NeutronDeps) {
    this.#d = deps;
  }

  async get(projectId: string): Promise<Quota> {
    return parseStoredQuota((await this.#d.kv.get(quotaKey(projectId)))?.value);
  }

  async list(): Promise<(Quota & { project_id: string; tenant_id: string })[]> {
    const { items } = await this.#d.kv.list(QUOTA_PREFIX);
    const out = [];
    for (const kv of items) {
      const project = kv.key.slice(QUOTA_PREFIX.length);
      out.push({ ...(await this.get(project)), project_id: project, tenant_id: project });
    }
    return out;
  }

  /**
   * Changes a project's limits. A resource held exactly (`GUARDED`) that becomes limited gets
   * its usage counter, counted afresh in the same step; one that becomes unlimited loses it.
   */
  async set(projectId: string, changes: Partial<Quota>): Promise<Quota> {
    for (const [k, v] of Object.entries(changes)) {
      if (!(QUOTA_RESOURCES as readonly string[]).includes(k)) throw faults.badRequest(`Unrecognized attribute(s) '${k}'`);
      if (!Number.isInteger(v) || v < -1) throw faults.badRequest(`Invalid input for ${k}. Reason: '${String(v)}' is not a valid quota limit.`);
    }
    const d = this.#d;
    const next = await casRetry(
      d,
      () => {
        throw faults.conflictRetry('Quota of project', projectId);
      },
      async () => {
        const kv = await d.kv.get(quotaKey(projectId));
        const before = parseStoredQuota(kv?.value);
        const after = { ...before, ...changes };
        const { start, drop } = usageChanges(before, after);
        const r = await d.kv.txn({
          compare: [
            kv === undefined
              ? { key: quotaKey(projectId), target: 'version', op: '==', value: 0 }
              : { key: quotaKey(projectId), target: 'modRevision', op: '==', value: kv.modRevision },
          ],
          success: [
            { op: 'put', key: quotaKey(projectId), value: JSON.stringify(after) },
            // Creates see the counter recounting (and wait) until the count below lands.
            ...start.map((res) => ({ op: 'put' as const, key: quotaUsageKey(projectId, res), value: JSON.stringify({ recountingSince: d.clock.now() }) })),
            ...drop.map((res) => ({ op: 'delete' as const, key: quotaUsageKey(projectId, res) })),
          ],
        });
        if (!r.succeeded) return AGAIN;
        for (const res of start) await recountUsage(d, projectId, res, await d.kv.get(quotaUsageKey(projectId, res)));
        return after;
      },
    );
    forgetQuota(d, projectId);
    return next;
  }

  async reset(projectId: string): Promise<void> {
    await this.#d.kv.txn({
      compare: [],
      success: [{ op: 'delete', key: quotaKey(projectId) }, ...GUARDED.map((res) => ({ op: 'delete' as const, key: quotaUsageKey(projectId, res) }))],
    });
    forgetQuota(this.#d, projectId);
  }

  /** Throws OverQuota if the project already has `current` of a resource limited below `current + 1`. */
  async check(projectId: string, resource: QuotaResource, count: () => Promise<number>): Promise<void> {
    // The guard's short cache of the quota key (quota-guard.ts), shared with the exact quotas.
    const limit = parseStoredQuota((await readQuotaKey(this.#d, projectId, false))?.value)[resource];
    if (limit < 0) return;
    if ((await count()) + 1 > limit) throw faults.overQuota(resource);
  }
}
