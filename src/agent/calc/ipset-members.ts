import { addRef, dropRef } from '../../lib/index.js';
import { LabelIndex, type Labels, type Selector } from '../../model/index.js';

/** What changed in the IP sets since the last flush, ready for the dataplane. */
export interface IpSetFlush {
  /** Whole member lists for new or replaced sets; undefined = the set is gone. */
  readonly ipSets: Map<string, readonly string[] | undefined>;
  /** Incremental changes to sets the dataplane already has. */
  readonly ipSetDeltas: Map<string, { added: readonly string[]; removed: readonly string[] }>;
}

interface SetDelta {
  readonly added: Set<string>;
  readonly removed: Set<string>;
}

/**
 * IP set members (Felix's IP set member index): for each selector a rule uses (referenced by
 * set id), the addresses of every endpoint in the cluster it matches. Each set is a member
 * count per address, so two endpoints with one address keep it until both are gone.
 *
 * Invariants: a set is announced whole the first time (and after it was dropped and taken again
 * in one batch); after that only its deltas; a set never announced is never announced as gone.
 * Keeps per endpoint only its addresses (the labels live in the index).
 */
export class IpSetMembers {
  /** Rule selectors against every endpoint. */
  readonly #index: LabelIndex<string, string>;
  readonly #nets = new Map<string, readonly string[]>();
  readonly #refs = new Map<string, number>();
  readonly #members = new Map<string, Map<string, number>>();
  readonly #newSets = new Set<string>();
  readonly #removedSets = new Set<string>();
  /** Sets the dataplane has been told about (by an earlier flush). */
  readonly #sentSets = new Set<string>();
  readonly #deltas = new Map<string, SetDelta>();

  constructor() {
    this.#index = new LabelIndex<string, string>({
      onMatchStarted: (set, ep) => this.#memberNets(set, this.#nets.get(ep) ?? [], +1),
      onMatchStopped: (set, ep) => this.#memberNets(set, this.#nets.get(ep) ?? [], -1),
    });
  }

  /** Endpoints known (of every host) and sets in use. */
  get stats(): { endpoints: number; sets: number } {
    return { endpoints: this.#nets.size, sets: this.#refs.size };
  }

  /** An endpoint appeared or changed: addresses first, then labels. */
  updateEndpoint(id: string, labels: Labels, nets: readonly string[]): void {
    const old = this.#nets.get(id);
    if (old !== undefined && !sameList(old, nets)) {
      for (const set of this.#index.selectorsMatching(id)) {
        this.#memberNets(set, old, -1);
        this.#memberNets(set, nets, +1);
      }
    }
    this.#nets.set(id, nets);
    this.#index.updateLabels(id, labels);
  }

  removeEndpoint(id: string): void {
    this.#index.deleteLabels(id);
    this.#nets.delete(id);
  }

  /** A rule uses this selector (one more reference to its set). */
  ref(setId: string, sel: Selector): void {
    if (!addRef(this.#refs, setId)) return;
    this.#members.set(setId, new Map());
    // A set removed and re-added in one batch is re-sent whole.
    this.#removedSets.delete(setId);
    this.#newSets.add(setId);
    this.#index.updateSelector(setId, sel);
  }

  /** One reference fewer; the set goes with the last. */
  unref(setId: string): void {
    if (!dropRef(this.#refs, setId)) return;
    this.#index.deleteSelector(setId);
    this.#members.delete(setId);
    this.#deltas.delete(setId);
    this.#newSets.delete(setId);
    if (this.#sentSets.has(setId)) this.#removedSets.add(setId);
  }

  /** The current members of a set (for tests and diagnostics). */
  members(setId: string): readonly string[] | undefined {
    const m = this.#members.get(setId);
    return m === undefined ? undefined : [...m.keys()];
  }

  flush(): IpSetFlush {
    const ipSets = new Map<string, readonly string[] | undefined>();
    const ipSetDeltas = new Map<string, { added: readonly string[]; removed: readonly string[] }>();
    for (const id of this.#newSets) {
      ipSets.set(id, [...(this.#members.get(id)?.keys() ?? [])]);
      this.#sentSets.add(id);
    }
    for (const id of this.#removedSets) {
      ipSets.set(id, undefined);
      this.#sentSets.delete(id);
    }
    for (const [id, d] of this.#deltas) {
      if (ipSets.has(id) || (d.added.size === 0 && d.removed.size === 0)) continue;
      ipSetDeltas.set(id, { added: [...d.added], removed: [...d.removed] });
    }
    this.#newSets.clear();
    this.#removedSets.clear();
    this.#deltas.clear();
    return { ipSets, ipSetDeltas };
  }

  #memberNets(setId: string, nets: readonly string[], delta: number): void {
    const members = this.#members.get(setId);
    if (members === undefined) return;
    for (const net of nets) {
      const n = (members.get(net) ?? 0) + delta;
      if (n > 0) members.set(net, n);
      else members.delete(net);
      const appeared = delta > 0 && n === 1;
      const vanished = delta < 0 && n <= 0;
      if ((!appeared && !vanished) || this.#newSets.has(setId)) continue;
      let d = this.#deltas.get(setId);
      if (d === undefined) this.#deltas.set(setId, (d = { added: new Set(), removed: new Set() }));
      if (appeared) {
        if (!d.removed.delete(net)) d.added.add(net);
      } else if (!d.added.delete(net)) d.removed.add(net);
    }
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
