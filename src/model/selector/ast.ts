/** Labels as carried by endpoints and other selectable objects. */
export type Labels = Readonly<Record<string, string>>;

/** A parsed Calico selector expression. */
export type Selector =
  | { readonly op: 'all' }
  | { readonly op: 'global' }
  | { readonly op: 'has'; readonly key: string }
  | { readonly op: '==' | '!=' | 'contains' | 'starts with' | 'ends with'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'not in'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: '!'; readonly expr: Selector }
  | { readonly op: '&&' | '||'; readonly left: Selector; readonly right: Selector };
