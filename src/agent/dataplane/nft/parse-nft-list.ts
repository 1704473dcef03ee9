/**
 * Reads `nft -j list table <family> brindle` into what the driver compares: each chain's rule
 * ids (from the `cali:<id>` comments; a rule without one reads as '' and so never matches), each
 * set's elements in the form the kernel tools print them (`198.18.0.1`, `198.18.0.0/24`), each
 * verdict map's entries (`tap1` → `goto cali-fw-tap1`). Base chains also record their hook.
 */
import { z } from 'zod';

export interface NftView {
  readonly chains: Map<string, string[]>;
  /** Base chains: name → `type/hook/priority`, as our declaration of it would read. */
  readonly hooks: Map<string, string>;
  readonly sets: Map<string, Set<string>>;
  readonly maps: Map<string, Map<string, string>>;
}

export function emptyNftView(): NftView {
  return { chains: new Map(), hooks: new Map(), sets: new Map(), maps: new Map() };
}

const Prefix = z.object({ prefix: z.object({ addr: z.string(), len: z.number() }) });
const Verdict = z.record(z.string(), z.object({ target: z.string() }).nullable().optional());
const Item = z.object({
  chain: z.object({ name: z.string(), type: z.string().optional(), hook: z.string().optional(), prio: z.number().optional() }).optional(),
  rule: z.object({ chain: z.string(), comment: z.string().optional() }).optional(),
  set: z.object({ name: z.string(), elem: z.array(z.unknown()).optional() }).optional(),
  map: z.object({ name: z.string(), elem: z.array(z.unknown()).optional() }).optional(),
});
const Listing = z.object({ nftables: z.array(z.unknown()) });

/** The printed form of one set element; `undefined` for a form we never write (a range). */
function element(e: unknown): string | undefined {
  if (typeof e === 'string') return e;
  const p = Prefix.safeParse(e);
  if (p.success) return `${p.data.prefix.addr}/${p.data.prefix.len}`;
  const wrapped = z.object({ elem: z.object({ val: z.unknown() }) }).safeParse(e);
  return wrapped.success ? element(wrapped.data.elem.val) : undefined;
}

/** `goto cali-fw-tap1` / `jump x` / `drop` … as our map declarations write them. */
function verdictText(v: unknown): string | undefined {
  const parsed = Verdict.safeParse(v);
  if (!parsed.success) return undefined;
  const [kind, arg] = Object.entries(parsed.data)[0] ?? [];
  if (kind === undefined) return undefined;
  return arg?.target === undefined ? kind : `${kind} ${arg.target}`;
}

export function parseNftList(json: string): NftView {
  const view = emptyNftView();
  const listing = Listing.parse(JSON.parse(json));
  for (const raw of listing.nftables) {
    const item = Item.safeParse(raw);
    if (!item.success) continue;
    const { chain, rule, set, map } = item.data;
    if (chain !== undefined) {
      if (!view.chains.has(chain.name)) view.chains.set(chain.name, []);
      if (chain.hook !== undefined) view.hooks.set(chain.name, `${chain.type ?? ''}/${chain.hook}/${chain.prio ?? 0}`);
    }
    if (rule !== undefined) {
      const ids = view.chains.get(rule.chain) ?? [];
      ids.push(rule.comment?.startsWith('cali:') === true ? rule.comment.slice(5) : '');
      view.chains.set(rule.chain, ids);
    }
    if (set !== undefined) {
      const members = new Set<string>();
      for (const e of set.elem ?? []) members.add(element(e) ?? '?range');
      view.sets.set(set.name, members);
    }
    if (map !== undefined) {
      const entries = new Map<string, string>();
      for (const e of map.elem ?? []) {
        if (!Array.isArray(e) || typeof e[0] !== 'string') continue;
        entries.set(e[0], verdictText(e[1]) ?? '?');
      }
      view.maps.set(map.name, entries);
    }
  }
  return view;
}
