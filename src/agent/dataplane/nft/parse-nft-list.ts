/**
 * Reads `nft list table <family> brindle` (the text listing: nft's JSON of a 100,000-rule table
 * is 43 MB, slower to print and several times bigger once parsed) into what the driver compares:
 * each chain's rule ids (from the `cali:<id>` comments; a rule without one reads as '' and so
 * never matches), each base chain's hook, each set's elements as the kernel tools print them
 * (`198.18.0.1`, `198.18.0.0/24`; a merged range reads as `?range`, which we never write), and
 * each verdict map's entries (`tap1` → `goto cali-fw-tap1`).
 */
export interface NftView {
  readonly chains: Map<string, readonly string[]>;
  /** Base chains: name → `type/hook/priority` (priority as a number). */
  readonly hooks: Map<string, string>;
  readonly sets: Map<string, Set<string>>;
  /** Sets declared `flags interval` (the others are hash sets of addresses). */
  readonly intervalSets: Set<string>;
  readonly maps: Map<string, Map<string, string>>;
}

export function emptyNftView(): NftView {
  return { chains: new Map(), hooks: new Map(), sets: new Map(), intervalSets: new Set(), maps: new Map() };
}

/** nft's named priorities (the iptables tables' own). */
const PRIORITIES: Readonly<Record<string, number>> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

function priorityNumber(text: string): number {
  const m = /^(-?\d+)$|^([a-z]+)(?:\s*([+-])\s*(\d+))?$/.exec(text.trim());
  if (m === null) return NaN;
  if (m[1] !== undefined) return Number(m[1]);
  const base = PRIORITIES[m[2] ?? ''] ?? NaN;
  return m[3] === undefined ? base : base + (m[3] === '-' ? -1 : 1) * Number(m[4]);
}

const CHAIN = /^\tchain (\S+) \{$/;
const SET = /^\t(set|map) (\S+) \{$/;
const HOOK = /^\t\ttype (\S+) hook (\S+) priority ([^;]+);/;
const ID = /comment "cali:([^"]*)"$/;

export function parseNftList(text: string): NftView {
  const view = emptyNftView();
  let chain: string[] | undefined;
  let chainName = '';
  let set: { kind: 'set' | 'map'; name: string; elements: string[] } | undefined;
  let inElements = false;
  const endSet = (): void => {
    if (set === undefined) return;
    if (set.kind === 'set') view.sets.set(set.name, new Set(set.elements.map((e) => (e.includes('-') && !e.includes(':') ? '?range' : e))));
    else {
      const entries = new Map<string, string>();
      for (const e of set.elements) {
        const m = /^"([^"]*)"\s*:\s*(.+)$/.exec(e);
        if (m?.[1] !== undefined && m[2] !== undefined) entries.set(m[1], m[2].trim());
      }
      view.maps.set(set.name, entries);
    }
    set = undefined;
  };
  for (const line of text.split('\n')) {
    if (set !== undefined) {
      if (inElements || line.startsWith('\t\telements = {')) {
        const body: string = inElements ? line : line.slice(line.indexOf('{') + 1);
        const close: number = body.indexOf('}');
        for (const item of (close < 0 ? body : body.slice(0, close)).split(',')) if (item.trim() !== '') set.elements.push(item.trim());
        inElements = close < 0;
      } else if (line === '\t}') endSet();
      else if (/^\t\tflags .*\binterval\b/.test(line)) view.intervalSets.add(set.name);
      continue;
    }
    if (chain !== undefined) {
      if (line === '\t}') {
        chain = undefined;
        continue;
      }
      const hook = HOOK.exec(line);
      if (hook !== null) {
        view.hooks.set(chainName, `${hook[1] ?? ''}/${hook[2] ?? ''}/${priorityNumber(hook[3] ?? '')}`);
        continue;
      }
      if (line.trim() !== '') chain.push(ID.exec(line)?.[1] ?? '');
      continue;
    }
    const c = CHAIN.exec(line);
    if (c?.[1] !== undefined) {
      chainName = c[1];
      chain = [];
      view.chains.set(chainName, chain);
      continue;
    }
    const s = SET.exec(line);
    if (s?.[2] !== undefined) set = { kind: s[1] === 'map' ? 'map' : 'set', name: s[2], elements: [] };
  }
  return view;
}
