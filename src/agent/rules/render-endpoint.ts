/**
 * Renders a workload endpoint's two chains (reference §1.9): `cali-tw-<iface>` (traffic to the
 * VM, ingress policy) and `cali-fw-<iface>` (traffic from the VM, egress policy). Order:
 * admin-down ⇒ a single DROP; else conntrack accept/invalid-drop, clear ACCEPT|PASS, (from-chain
 * only) drop VXLAN/IPIP sent by the VM, each tier's policies, the profiles, and a final DROP:
 * anything no policy or profile accepted is dropped. Policies are always jumped to directly
 * (no policy-group chains).
 */
import type { IpFamily, LocalEndpoint } from '../calc/model.js';
import type { DataplaneConfig } from '../config.js';
import type { Chain, IptRule } from '../dataplane/iptables/chain.js';
import { endpointChainNames, policyChainName } from './chain-names.js';
import { ipt } from './ipt.js';

/** Felix's default VXLANPort: workloads may not send VXLAN to the host's decapsulator. */
const VXLAN_PORT = 4789;
const ESTABLISHED = '-m conntrack --ctstate RELATED,ESTABLISHED';

type Direction = 'ingress' | 'egress';

function conntrackRules(config: DataplaneConfig): IptRule[] {
  const rules: IptRule[] =
    config.filterAllowAction === 'RETURN'
      ? [
          { match: ESTABLISHED, action: ipt.setMark(config.marks.accept) },
          { match: ESTABLISHED, action: '-j RETURN' },
        ]
      : [{ match: ESTABLISHED, action: '-j ACCEPT' }];
  if (!config.disableConntrackInvalidCheck) rules.push({ match: '-m conntrack --ctstate INVALID', action: '-j DROP' });
  return rules;
}

function policyRules(ep: LocalEndpoint, dir: Direction, config: DataplaneConfig): IptRule[] {
  const { accept, pass } = config.marks;
  const rules: IptRule[] = [];
  for (const tier of ep.tiers) {
    const policies = tier[dir];
    if (policies.length === 0) continue;
    rules.push({ match: '', action: ipt.clearMark(pass), comment: [`Start of tier ${tier.name}`] });
    for (const id of policies) {
      rules.push({ match: ipt.markClear(pass), action: `-j ${policyChainName(id, dir)}` });
      rules.push({ match: ipt.markSet(accept), action: '-j RETURN', comment: ['Return if policy accepted'] });
    }
    rules.push({
      match: ipt.markClear(pass),
      action: '-j DROP',
      comment: [`End of tier ${tier.name}. Drop if no policies passed packet`],
    });
  }
  for (const id of ep.profileIds) {
    rules.push({ match: '', action: `-j ${policyChainName(id, dir)}` });
    rules.push({ match: ipt.markSet(accept), action: '-j RETURN', comment: ['Return if profile accepted'] });
  }
  rules.push({ match: '', action: '-j DROP', comment: ['Drop if no profiles matched'] });
  return rules;
}

function endpointChain(name: string, ep: LocalEndpoint, dir: Direction, config: DataplaneConfig): Chain {
  if (!ep.adminUp) return { name, rules: [{ match: '', action: '-j DROP', comment: ['Endpoint admin disabled'] }] };
  const rules: IptRule[] = [...conntrackRules(config)];
  rules.push({ match: '', action: ipt.clearMark(config.marks.accept | config.marks.pass) });
  if (dir === 'egress') {
    rules.push({
      match: ipt.join('-p udp', ipt.port('destination', VXLAN_PORT)),
      action: '-j DROP',
      comment: ['Drop VXLAN encapped packets originating in workloads'],
    });
    rules.push({ match: '-p 4', action: '-j DROP', comment: ['Drop IPinIP encapped packets originating in workloads'] });
  }
  rules.push(...policyRules(ep, dir, config));
  return { name, rules };
}

/**
 * [to-chain `cali-tw-<iface>`, from-chain `cali-fw-<iface>`] for `ep`. The family does not
 * change these chains (policy chains differ per family, their names do not); it is taken so
 * callers render every table the same way.
 */
export function renderEndpointChains(ep: LocalEndpoint, _family: IpFamily, config: DataplaneConfig): [Chain, Chain] {
  const names = endpointChainNames(ep.iface);
  return [endpointChain(names.to, ep, 'ingress', config), endpointChain(names.from, ep, 'egress', config)];
}
