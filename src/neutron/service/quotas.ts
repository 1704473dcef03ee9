import { z } from 'zod';
import { faults } from '../errors.js';
import { QUOTA_PREFIX, quotaKey } from '../store/neutron-keys.js';
import type { NeutronDeps } from './neutron-deps.js';

export const QUOTA_RESOURCES = ['network', 'subnet', 'port', 'security_group', 'security_group_rule', 'subnetpool', 'rbac_policy', 'router', 'floatingip'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type Quota = Record<QuotaResource, number>;

/** Unlimited (-1) unless an operator sets a limit: Nova then skips its port-count check. */
export const DEFAULT_QUOTA: Quota = { network: -1, subnet: -1, port: -1, security_group: -1, security_group_rule: -1, subnetpool: -1, rbac_policy: -1, router: -1, floatingip: -1 };

const quotaSchema = z.record(z.string(), z.number().int().min(-1));

/** How long a server trusts a project's quota it read (a change reaches every server within this). */
const QUOTA_CACHE_MS = 2_000;

/** Per-project quotas: stored overrides over the defaults, enforced on create when set. */
export class QuotaService {
  readonly #d: NeutronDeps;
  readonly #cache = new Map<string, { quota: Quota; at: number }>();

  constructor(deps: NeutronDeps) {
    this.#d = deps;
  }

  async get(projectId: string): Promise<Quota> {
    const kv = await this.#d.kv.get(quotaKey(projectId));
    let quota: Quota = { ...DEFAULT_QUOTA };
    if (kv !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(kv.value);
      } catch {
        parsed = {};
      }
      const stored = quotaSchema.safeParse(parsed);
      quota = { ...DEFAULT_QUOTA, ...(stored.success ? stored.data : {}) };
    }
    this.#cache.set(projectId, { quota, at: this.#d.clock.monotonic() });
    return quota;
  }

  /** The quota as of at most QUOTA_CACHE_MS ago (for the per-create check on the hot path). */
  async #recent(projectId: string): Promise<Quota> {
    const hit = this.#cache.get(projectId);
    if (hit !== undefined && this.#d.clock.monotonic() - hit.at < QUOTA_CACHE_MS) return hit.quota;
    return this.get(projectId);
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

  async set(projectId: string, changes: Partial<Quota>): Promise<Quota> {
    for (const [k, v] of Object.entries(changes)) {
      if (!(QUOTA_RESOURCES as readonly string[]).includes(k)) throw faults.badRequest(`Unrecognized attribute(s) '${k}'`);
      if (!Number.isInteger(v) || (v) < -1) throw faults.badRequest(`Invalid input for ${k}. Reason: '${String(v)}' is not a valid quota limit.`);
    }
    const next = { ...(await this.get(projectId)), ...changes };
    await this.#d.kv.put(quotaKey(projectId), JSON.stringify(next));
    this.#cache.delete(projectId);
    return next;
  }

  async reset(projectId: string): Promise<void> {
    await this.#d.kv.delete(quotaKey(projectId));
    this.#cache.delete(projectId);
  }

  /** Throws OverQuota if the project already has `current` of a resource limited below `current + 1`. */
  async check(projectId: string, resource: QuotaResource, count: () => Promise<number>): Promise<void> {
    const limit = (await this.#recent(projectId))[resource];
    if (limit < 0) return;
    if ((await count()) + 1 > limit) throw faults.overQuota(resource);
  }
}
