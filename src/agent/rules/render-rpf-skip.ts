/**
 * Renders raw `cali-rpf-skip` (reference §1.4): the per-endpoint exceptions to the reverse-path
 * check, one `-i <iface> --source <prefix> -j ACCEPT` per `allowSpoofedSourcePrefixes` entry of
 * this family. Sorted by interface then prefix so equal input gives equal text.
 */
import type { IpFamily, LocalEndpoint } from '../calc/model.js';
import type { Chain, IptRule } from '../dataplane/iptables/chain.js';
import { ipt } from './ipt.js';

export function renderRpfSkip(endpoints: Iterable<LocalEndpoint>, family: IpFamily): Chain {
  const pairs: [string, string][] = [];
  for (const ep of endpoints) {
    for (const prefix of ep.allowSpoofedSourcePrefixes) {
      if (ipt.isV6(prefix) === (family === 6)) pairs.push([ep.iface, prefix]);
    }
  }
  pairs.sort(([ia, pa], [ib, pb]) => (ia === ib ? compare(pa, pb) : compare(ia, ib)));
  const seen = new Set<string>();
  const rules: IptRule[] = [];
  for (const [iface, prefix] of pairs) {
    const match = `-i ${iface} --source ${prefix}`;
    if (seen.has(match)) continue;
    seen.add(match);
    rules.push({ match, action: '-j ACCEPT' });
  }
  return { name: 'cali-rpf-skip', rules };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
