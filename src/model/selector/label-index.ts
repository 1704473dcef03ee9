import { addTo, removeFrom } from '../../lib/index.js';
import type { Labels, Selector } from './ast.js';
import { matchSelector, selectorIndexHint, selectorLabelKeys, type IndexHint } from './match-selector.js';
import { printSelector } from './print-selector.js';

/** Called synchronously as matches between a selector and an item start and stop. */
export interface LabelIndexCallbacks<S, I> {
  onMatchStarted(selectorId: S, itemId: I): void;
  onMatchStopped(selectorId: S, itemId: I): void;
}

interface SelectorEntry {
  readonly sel: Selector;
  readonly text: string;
  readonly keys: ReadonlySet<string>;
  readonly hint: IndexHint | undefined;
}

const EMPTY: ReadonlySet<never> = new Set();

/**
 * Answers "which items does this selector match" incrementally. A new item is tested only against
 * selectors that could match it (by each selector's required label); a label change re-tests only
 * the selectors that look at a changed key; a new selector is tested only against items carrying
 * its required label. Match changes are reported through the callbacks, never twice.
 */
export class LabelIndex<S = string, I = string> {
  readonly #cb: LabelIndexCallbacks<S, I>;
  /** Each item's labels: the caller's object, kept as given (labels are read-only). */
  readonly #items = new Map<I, Labels>();
  /** Label key → value → the items carrying it (one structure for `has(k)` and `k == v` hints). */
  readonly #itemsByKey = new Map<string, Map<string, Set<I>>>();
  readonly #selectors = new Map<S, SelectorEntry>();
  readonly #selectorsByKey = new Map<string, Set<S>>();
  readonly #selectorsByHintKey = new Map<string, Set<S>>();
  readonly #unhinted = new Set<S>();
  readonly #matches = new Map<S, Set<I>>();
  /** Per item, the selectors matching it: a small array (most items match a few), not a Set each. */
  readonly #matchedBy = new Map<I, S[]>();
  /** How many selector evaluations have been done (lets tests check the index stays narrow). */
  evaluations = 0;

  constructor(callbacks: LabelIndexCallbacks<S, I>) {
    this.#cb = callbacks;
  }

  /** The items a selector currently matches. */
  matchesOf(selectorId: S): ReadonlySet<I> {
    return this.#matches.get(selectorId) ?? EMPTY;
  }

  /** The selectors currently matching an item. */
  selectorsMatching(itemId: I): readonly S[] {
    return this.#matchedBy.get(itemId) ?? [];
  }

  updateSelector(id: S, sel: Selector): void {
    const text = printSelector(sel);
    const old = this.#selectors.get(id);
    if (old?.text === text) return;
    if (old !== undefined) this.#unindexSelector(id, old);
    const entry: SelectorEntry = { sel, text, keys: selectorLabelKeys(sel), hint: selectorIndexHint(sel) };
    this.#selectors.set(id, entry);
    for (const k of entry.keys) addTo(this.#selectorsByKey, k, id);
    if (entry.hint === undefined) this.#unhinted.add(id);
    else addTo(this.#selectorsByHintKey, entry.hint.key, id);

    const previous = this.#matches.get(id) ?? new Set<I>();
    const now = new Set<I>();
    for (const item of this.#candidateItems(entry.hint)) {
      if (this.#eval(entry, item)) now.add(item);
    }
    for (const item of previous) if (!now.has(item)) this.#stop(id, item);
    for (const item of now) if (!previous.has(item)) this.#start(id, item);
  }

  deleteSelector(id: S): void {
    const old = this.#selectors.get(id);
    if (old === undefined) return;
    for (const item of [...(this.#matches.get(id) ?? [])]) this.#stop(id, item);
    this.#unindexSelector(id, old);
    this.#selectors.delete(id);
  }

  updateLabels(id: I, labels: Labels): void {
    const old = this.#items.get(id);
    let candidates: Iterable<S>;
    if (old === undefined) {
      const set = new Set<S>(this.#unhinted);
      for (const k of Object.keys(labels)) for (const s of this.#selectorsByHintKey.get(k) ?? []) set.add(s);
      candidates = set;
    } else {
      const changed = changedKeys(old, labels);
      if (changed.length === 0) return;
      const set = new Set<S>();
      for (const k of changed) for (const s of this.#selectorsByKey.get(k) ?? []) set.add(s);
      candidates = set;
      this.#unindexItem(id, old);
    }
    this.#items.set(id, labels);
    for (const [k, v] of Object.entries(labels)) {
      let values = this.#itemsByKey.get(k);
      if (values === undefined) this.#itemsByKey.set(k, (values = new Map<string, Set<I>>()));
      addTo(values, v, id);
    }
    for (const s of candidates) {
      const entry = this.#selectors.get(s);
      if (entry === undefined) continue;
      const matched = this.#matches.get(s)?.has(id) ?? false;
      const matches = this.#eval(entry, id);
      if (matches && !matched) this.#start(s, id);
      else if (!matches && matched) this.#stop(s, id);
    }
  }

  deleteLabels(id: I): void {
    const old = this.#items.get(id);
    if (old === undefined) return;
    for (const s of [...(this.#matchedBy.get(id) ?? [])]) this.#stop(s, id);
    this.#unindexItem(id, old);
    this.#items.delete(id);
  }

  #eval(entry: SelectorEntry, item: I): boolean {
    this.evaluations++;
    return matchSelector(entry.sel, this.#items.get(item) ?? {});
  }

  *#candidateItems(hint: IndexHint | undefined): Iterable<I> {
    if (hint === undefined) {
      yield* this.#items.keys();
    } else if (hint.values === undefined) {
      for (const items of this.#itemsByKey.get(hint.key)?.values() ?? []) yield* items;
    } else {
      const values = this.#itemsByKey.get(hint.key);
      for (const v of new Set(hint.values)) yield* values?.get(v) ?? [];
    }
  }

  #unindexSelector(id: S, entry: SelectorEntry): void {
    for (const k of entry.keys) removeFrom(this.#selectorsByKey, k, id);
    if (entry.hint === undefined) this.#unhinted.delete(id);
    else removeFrom(this.#selectorsByHintKey, entry.hint.key, id);
  }

  #unindexItem(id: I, labels: Labels): void {
    for (const [k, v] of Object.entries(labels)) {
      const values = this.#itemsByKey.get(k);
      if (values === undefined) continue;
      removeFrom(values, v, id);
      if (values.size === 0) this.#itemsByKey.delete(k);
    }
  }

  #start(s: S, item: I): void {
    addTo(this.#matches, s, item);
    const by = this.#matchedBy.get(item);
    // Replaced, not grown in place: an array grown by push keeps room for 17.
    this.#matchedBy.set(item, by === undefined ? [s] : [...by, s]);
    this.#cb.onMatchStarted(s, item);
  }

  #stop(s: S, item: I): void {
    removeFrom(this.#matches, s, item);
    const by = this.#matchedBy.get(item)?.filter((x) => x !== s) ?? [];
    if (by.length === 0) this.#matchedBy.delete(item);
    else this.#matchedBy.set(item, by);
    this.#cb.onMatchStopped(s, item);
  }
}

function changedKeys(a: Labels, b: Labels): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(a)) if (!Object.hasOwn(b, k) || b[k] !== v) out.push(k);
  for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) out.push(k);
  return out;
}
