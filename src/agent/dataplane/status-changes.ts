import type { LocalEndpoint } from '../calc/model.js';

export type EndpointStatusIds = LocalEndpoint['statusIds'];

/** One endpoint's new status (`undefined`: the endpoint went, its key is deleted). */
export interface StatusChange {
  readonly ids: EndpointStatusIds;
  readonly status: 'up' | 'down' | undefined;
}

function sameIds(a: EndpointStatusIds, b: EndpointStatusIds): boolean {
  return a.orchestrator === b.orchestrator && a.workload === b.workload && a.endpoint === b.endpoint;
}

/**
 * Which endpoints' status may have changed (`mark`), and what was last handed out for each, so
 * `take` costs the changes, not every endpoint of the host. An endpoint whose status ids change
 * is reported gone under the old ids and new under the new ones.
 */
export class StatusChanges {
  readonly #candidates = new Set<string>();
  readonly #reported = new Map<string, { ids: EndpointStatusIds; status: 'up' | 'down' }>();

  mark(endpointId: string): void {
    this.#candidates.add(endpointId);
  }

  /** The changes since the last call; `current(id)` says what the endpoint is now (undefined: gone). */
  take(current: (id: string) => { ids: EndpointStatusIds; status: 'up' | 'down' } | undefined): StatusChange[] {
    const out: StatusChange[] = [];
    for (const id of this.#candidates) {
      const now = current(id);
      const prev = this.#reported.get(id);
      const same = prev !== undefined && now !== undefined && sameIds(prev.ids, now.ids);
      if (prev !== undefined && !same) out.push({ ids: prev.ids, status: undefined });
      if (now !== undefined && (!same || prev?.status !== now.status)) out.push(now);
      if (now === undefined) this.#reported.delete(id);
      else this.#reported.set(id, now);
    }
    this.#candidates.clear();
    return out;
  }
}
