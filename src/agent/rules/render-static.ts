/**
 * Renders the chains that do not depend on endpoints or policies, for all four tables, plus the
 * jump rules Brindle puts into the kernel's own chains (reference §1.1–§1.6, §1.13, §4.2).
 * Brindle has no host endpoints yet: `cali-from-host-endpoint`/`cali-to-host-endpoint` only jump
 * to the failsafe chains (so the failsafe ports always stay open for the host), and the
 * apply-on-forward host-endpoint chains are empty.
 *
 * Chains referenced here but rendered elsewhere: `cali-from-wl-dispatch`/`cali-to-wl-dispatch`
 * (filter, `renderDispatchChains`), `cali-rpf-skip` (raw, `renderRpfSkip`), `cali-fip-dnat`/
 * `cali-fip-snat` (nat, `renderFloatingIpChains`). A table is only loadable with them.
 */
import { isIPv4 } from 'node:net';
import type { IpFamily } from '../calc/model.js';
import type { DataplaneConfig, FailsafePort } from '../config.js';
import type { Chain, IptRule, KernelChainRules, TableName } from '../dataplane/iptables/chain.js';
import { ipt } from './ipt.js';

export interface StaticTable {
  readonly chains: Chain[];
  /** Kernel chain (INPUT, FORWARD, …) → the rules Brindle keeps in it. */
  readonly kernel: Record<string, KernelChainRules>;
}

/** The address Nova's metadata service is reached at from a VM. */
const METADATA_VIP = '169.254.169.254/32';
/** ICMPv6 a VM must be able to send the host: MLD (130–132), RS (133), NS (135), NA (136). */
const ICMPV6_TO_HOST = [130, 131, 132, 133, 135, 136];

const rule = (match: string, action: string, comment?: string): IptRule => (comment === undefined ? { match, action } : { match, action, comment: [comment] });
const jump = (chain: string): IptRule => rule('', `-j ${chain}`);
const insert = (...rules: IptRule[]): KernelChainRules => ({ insert: rules, append: [] });

function metadataAddr(config: DataplaneConfig, family: IpFamily): { addr: string; port: number } | undefined {
  const m = config.metadata;
  return family === 4 && m !== undefined && isIPv4(m.addr) ? m : undefined;
}

function failsafeRules(ports: readonly FailsafePort[], family: IpFamily, side: 'source' | 'destination'): IptRule[] {
  return ports
    .filter((p) => p.net === undefined || ipt.isV6(p.net) === (family === 6))
    .map((p) => rule(ipt.join(`-p ${p.protocol}`, p.net !== undefined && `--${side} ${p.net}`, ipt.port('destination', p.port)), '-j ACCEPT'));
}

function filterTable(config: DataplaneConfig, family: IpFamily): StaticTable {
  const { marks } = config;
  const acceptIfMarked = ipt.markSet(marks.accept);
  const allMarks = marks.accept | marks.pass | marks.scratch0 | marks.scratch1;
  const wildcards = config.interfacePrefixes.map((p) => `${p}+`);
  const metadata = metadataAddr(config, family);
  const [dhcpClient, dhcpServer] = family === 4 ? [68, 67] : [546, 547];

  const input: IptRule[] = [
    ...wildcards.map((w) => rule(`-i ${w}`, '-g cali-wl-to-host')),
    rule(acceptIfMarked, '-j ACCEPT'),
    rule('', ipt.clearMark(allMarks)),
    jump('cali-from-host-endpoint'),
    rule(acceptIfMarked, '-j ACCEPT', 'Host endpoint policy accepted packet'),
  ];
  const wlToHost: IptRule[] = [
    ...(family === 6 ? ICMPV6_TO_HOST.map((t) => rule(`-p ipv6-icmp -m icmp6 --icmpv6-type ${t}`, '-j ACCEPT')) : []),
    ...(metadata === undefined ? [] : [rule(ipt.join('-p tcp', `--destination ${metadata.addr}/32`, ipt.port('destination', metadata.port)), '-j ACCEPT')]),
    rule(ipt.join('-p udp', ipt.port('source', dhcpClient), ipt.port('destination', dhcpServer)), '-j ACCEPT'),
    rule(ipt.join('-p udp', ipt.port('destination', 53)), '-j ACCEPT'),
    jump('cali-from-wl-dispatch'),
    rule('', `-j ${config.endpointToHostAction}`, 'Configured DefaultEndpointToHostAction'),
  ];
  const forward: IptRule[] = [
    rule('', ipt.clearMark(marks.pass | marks.scratch0 | marks.scratch1)),
    rule(ipt.markClear(marks.accept), '-j cali-from-hep-forward'),
    ...wildcards.flatMap((w) => [rule(`-i ${w}`, '-j cali-from-wl-dispatch'), rule(`-o ${w}`, '-j cali-to-wl-dispatch')]),
    jump('cali-to-hep-forward'),
  ];
  const output: IptRule[] = [
    rule(acceptIfMarked, '-j ACCEPT'),
    ...wildcards.map((w) => rule(`-o ${w}`, '-j RETURN')),
    rule('', ipt.clearMark(allMarks)),
    rule('-m conntrack ! --ctstate DNAT', '-j cali-to-host-endpoint'),
    rule(acceptIfMarked, '-j ACCEPT', 'Host endpoint policy accepted packet'),
  ];
  return {
    chains: [
      { name: 'cali-INPUT', rules: input },
      { name: 'cali-wl-to-host', rules: wlToHost },
      { name: 'cali-FORWARD', rules: forward },
      { name: 'cali-OUTPUT', rules: output },
      { name: 'cali-failsafe-in', rules: failsafeRules(config.failsafeInbound, family, 'source') },
      { name: 'cali-failsafe-out', rules: failsafeRules(config.failsafeOutbound, family, 'destination') },
      { name: 'cali-from-host-endpoint', rules: [jump('cali-failsafe-in')] },
      { name: 'cali-to-host-endpoint', rules: [jump('cali-failsafe-out')] },
      { name: 'cali-from-hep-forward', rules: [] },
      { name: 'cali-to-hep-forward', rules: [] },
    ],
    kernel: {
      INPUT: insert(jump('cali-INPUT')),
      FORWARD: {
        insert: [jump('cali-FORWARD')],
        append: [rule(acceptIfMarked, '-j ACCEPT'), rule('', ipt.setMark(marks.accept))],
      },
      OUTPUT: insert(jump('cali-OUTPUT')),
    },
  };
}

function rawTable(config: DataplaneConfig, family: IpFamily): StaticTable {
  const { marks } = config;
  const allMarks = marks.accept | marks.pass | marks.scratch0 | marks.scratch1;
  const fromWorkload = ipt.markSet(marks.scratch0);
  const prerouting: IptRule[] = [
    rule('', ipt.clearMark(allMarks)),
    ...config.interfacePrefixes.map((p) => rule(`-i ${p}+`, ipt.setMark(marks.scratch0))),
    rule(fromWorkload, '-j cali-rpf-skip'),
    ...(family === 4 ? [rule(ipt.join('-p udp', '--source 0.0.0.0/32', ipt.port('source', 68), ipt.port('destination', 67)), '-j ACCEPT')] : []),
    rule(ipt.join(fromWorkload, '-m rpfilter --validmark --invert'), '-j DROP', 'Drop packets from workloads that fail the reverse path check'),
  ];
  return {
    chains: [
      { name: 'cali-PREROUTING', rules: prerouting },
      { name: 'cali-OUTPUT', rules: [rule('', ipt.clearMark(allMarks))] },
    ],
    kernel: { PREROUTING: insert(jump('cali-PREROUTING')), OUTPUT: insert(jump('cali-OUTPUT')) },
  };
}

function mangleTable(config: DataplaneConfig): StaticTable {
  const acceptIfMarked = ipt.markSet(config.marks.accept);
  return {
    chains: [
      {
        name: 'cali-PREROUTING',
        rules: [rule('-m conntrack --ctstate RELATED,ESTABLISHED', '-j ACCEPT'), rule(acceptIfMarked, '-j ACCEPT')],
      },
      { name: 'cali-POSTROUTING', rules: [rule(acceptIfMarked, '-j RETURN')] },
    ],
    kernel: { PREROUTING: insert(jump('cali-PREROUTING')), POSTROUTING: insert(jump('cali-POSTROUTING')) },
  };
}

function natTable(config: DataplaneConfig, family: IpFamily): StaticTable {
  const metadata = metadataAddr(config, family);
  const prerouting: IptRule[] = [
    jump('cali-fip-dnat'),
    ...(metadata === undefined
      ? []
      : [rule(ipt.join('-p tcp', `--destination ${METADATA_VIP}`, ipt.port('destination', 80)), `-j DNAT --to-destination ${metadata.addr}:${metadata.port}`)]),
  ];
  return {
    chains: [
      { name: 'cali-PREROUTING', rules: prerouting },
      { name: 'cali-OUTPUT', rules: [jump('cali-fip-dnat')] },
      { name: 'cali-POSTROUTING', rules: [jump('cali-fip-snat'), jump('cali-nat-outgoing')] },
      { name: 'cali-nat-outgoing', rules: [] },
    ],
    kernel: {
      PREROUTING: insert(jump('cali-PREROUTING')),
      OUTPUT: insert(jump('cali-OUTPUT')),
      // Appended, so another program's masquerade-mark chain runs first (reference §1.1).
      POSTROUTING: { insert: [], append: [jump('cali-POSTROUTING')] },
    },
  };
}

/** Every table's static chains and kernel-chain rules for the `family` tables under `config`. */
export function renderStaticTables(config: DataplaneConfig, family: IpFamily): Record<TableName, StaticTable> {
  return {
    raw: rawTable(config, family),
    mangle: mangleTable(config),
    filter: filterTable(config, family),
    nat: natTable(config, family),
  };
}
