import type { Selector } from './ast.js';

/**
 * The selector with every label key prefixed, as Calico does to match namespace selectors
 * (`pcns.`) and service-account selectors (`pcsa.`) against labels copied onto endpoints.
 */
export function prefixSelectorKeys(sel: Selector, prefix: string): Selector {
  switch (sel.op) {
    case 'all':
    case 'global':
      return sel;
    case '!':
      return { op: '!', expr: prefixSelectorKeys(sel.expr, prefix) };
    case '&&':
    case '||':
      return { op: sel.op, left: prefixSelectorKeys(sel.left, prefix), right: prefixSelectorKeys(sel.right, prefix) };
    default:
      return { ...sel, key: `${prefix}${sel.key}` };
  }
}
