export type { Labels, Selector } from './ast.js';
export { parseSelector } from './parse-selector.js';
export { matchSelector, selectorLabelKeys, selectorIndexHint, type IndexHint } from './match-selector.js';
export { printSelector } from './print-selector.js';
export { prefixSelectorKeys } from './prefix-selector-keys.js';
export { LabelIndex, type LabelIndexCallbacks } from './label-index.js';
