import type { Labels, Selector } from './ast.js';

/** Evaluates a selector against a label set (Calico semantics: `!=` and `not in` match absent labels). */
export function matchSelector(sel: Selector, labels: Labels): boolean {
  switch (sel.op) {
    case 'all':
      return true;
    case 'global':
      return false;
    case 'has':
      return Object.hasOwn(labels, sel.key);
    case '==':
      return Object.hasOwn(labels, sel.key) && labels[sel.key] === sel.value;
    case '!=':
      return !Object.hasOwn(labels, sel.key) || labels[sel.key] !== sel.value;
    case 'in':
      return Object.hasOwn(labels, sel.key) && sel.values.includes(labels[sel.key] ?? '');
    case 'not in':
      return !Object.hasOwn(labels, sel.key) || !sel.values.includes(labels[sel.key] ?? '');
    case 'contains':
      return Object.hasOwn(labels, sel.key) && (labels[sel.key] ?? '').includes(sel.value);
    case 'starts with':
      return Object.hasOwn(labels, sel.key) && (labels[sel.key] ?? '').startsWith(sel.value);
    case 'ends with':
      return Object.hasOwn(labels, sel.key) && (labels[sel.key] ?? '').endsWith(sel.value);
    case '!':
      return !matchSelector(sel.expr, labels);
    case '&&':
      return matchSelector(sel.left, labels) && matchSelector(sel.right, labels);
    case '||':
      return matchSelector(sel.left, labels) || matchSelector(sel.right, labels);
  }
}

/** Every label key the selector looks at; its result can change only when one of these does. */
export function selectorLabelKeys(sel: Selector, into: Set<string> = new Set()): Set<string> {
  switch (sel.op) {
    case 'all':
    case 'global':
      break;
    case '!':
      selectorLabelKeys(sel.expr, into);
      break;
    case '&&':
    case '||':
      selectorLabelKeys(sel.left, into);
      selectorLabelKeys(sel.right, into);
      break;
    default:
      into.add(sel.key);
  }
  return into;
}

/**
 * A label every match must carry (and, where known, the only values it may have): lets an index
 * look at a few candidates instead of everything. Undefined when no single label is required.
 */
export interface IndexHint {
  readonly key: string;
  readonly values?: readonly string[];
}

function isUbiquitous(key: string): boolean {
  return key.startsWith('projectcalico.org/');
}

export function selectorIndexHint(sel: Selector): IndexHint | undefined {
  switch (sel.op) {
    case 'has':
    case 'contains':
    case 'starts with':
    case 'ends with':
      return { key: sel.key };
    case '==':
      return { key: sel.key, values: [sel.value] };
    case 'in':
      return { key: sel.key, values: sel.values };
    case '&&': {
      const l = selectorIndexHint(sel.left);
      const r = selectorIndexHint(sel.right);
      // Calico's implicit labels (namespace, orchestrator) are on nearly every endpoint: a hint
      // on them narrows nothing. NetworkPolicy selectors are ANDed with the namespace, so prefer
      // the other side.
      if (l !== undefined && r !== undefined && isUbiquitous(l.key) !== isUbiquitous(r.key)) return isUbiquitous(l.key) ? r : l;
      if (l?.values !== undefined) return l;
      if (r?.values !== undefined) return r;
      return l ?? r;
    }
    default:
      return undefined;
  }
}
