import { createHash } from 'node:crypto';
import { printSelector, type Selector } from '../../model/index.js';

/**
 * The IP set id of a rule selector, as Felix computes it: `s:` + base64url(SHA-224 of the
 * canonical selector text). Equal selectors, however written, share one set.
 */
export function selectorIpSetId(sel: Selector): string {
  return `s:${createHash('sha224').update(printSelector(sel)).digest('base64url')}`;
}
