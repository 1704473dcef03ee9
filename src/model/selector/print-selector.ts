import type { Selector } from './ast.js';

function quote(s: string): string {
  return s.includes('"') ? `'${s}'` : `"${s}"`;
}

function printSet(values: readonly string[]): string {
  return `{${[...new Set(values)].sort().map(quote).join(', ')}}`;
}

/**
 * The canonical text of a selector: equal selectors print equally (sets sorted and de-duplicated,
 * `&&`/`||` chains parenthesised), so the text can key IP sets and caches.
 */
export function printSelector(sel: Selector): string {
  switch (sel.op) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${sel.key})`;
    case 'in':
    case 'not in':
      return `${sel.key} ${sel.op} ${printSet(sel.values)}`;
    case '!':
      return `!${printSelector(sel.expr)}`;
    case '&&':
    case '||':
      return `(${printSelector(sel.left)} ${sel.op} ${printSelector(sel.right)})`;
    default:
      return `${sel.key} ${sel.op} ${quote(sel.value)}`;
  }
}
