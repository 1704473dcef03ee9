import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LocalEndpoint } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG, type DataplaneConfig } from '../config.js';
import { renderEndpointChains } from './render-endpoint.js';
import { localEndpoint, ruleLines } from './testing/index.js';

const ESTABLISHED = '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT';
const INVALID = '-m conntrack --ctstate INVALID -j DROP';
const CLEAR = '-j MARK --set-mark 0/0x30000';
const VXLAN = '-p udp -m multiport --destination-ports 4789 -j DROP # Drop VXLAN encapped packets originating in workloads';
const IPIP = '-p 4 -j DROP # Drop IPinIP encapped packets originating in workloads';
const FINAL = '-j DROP # Drop if no profiles matched';

interface Case {
  readonly name: string;
  readonly ep: LocalEndpoint;
  readonly config?: Partial<DataplaneConfig>;
  readonly to: string[];
  readonly from: string[];
}

const cases: Case[] = [
  {
    name: 'no policy at all: conntrack, clear, final drop',
    ep: localEndpoint('tap1'),
    to: [ESTABLISHED, INVALID, CLEAR, FINAL],
    from: [ESTABLISHED, INVALID, CLEAR, VXLAN, IPIP, FINAL],
  },
  {
    name: 'admin down: a single drop',
    ep: localEndpoint('tap1', { adminUp: false, tiers: [{ name: 'default', ingress: ['np/a/b'], egress: [] }], profileIds: ['pro/p'] }),
    to: ['-j DROP # Endpoint admin disabled'],
    from: ['-j DROP # Endpoint admin disabled'],
  },
  {
    name: 'tiers per direction, then profiles',
    ep: localEndpoint('tap1', {
      tiers: [
        { name: 'default', ingress: ['np/a/b', 'gnp/c'], egress: ['np/a/b'] },
        { name: 'late', ingress: [], egress: ['gnp/d'] },
      ],
      profileIds: ['pro/p'],
    }),
    to: [
      ESTABLISHED,
      INVALID,
      CLEAR,
      '-j MARK --set-mark 0/0x20000 # Start of tier default',
      '-m mark --mark 0/0x20000 -j cali-pi-a/b',
      '-m mark --mark 0x10000/0x10000 -j RETURN # Return if policy accepted',
      '-m mark --mark 0/0x20000 -j cali-pi-c',
      '-m mark --mark 0x10000/0x10000 -j RETURN # Return if policy accepted',
      '-m mark --mark 0/0x20000 -j DROP # End of tier default. Drop if no policies passed packet',
      '-j cali-pri-p',
      '-m mark --mark 0x10000/0x10000 -j RETURN # Return if profile accepted',
      FINAL,
    ],
    from: [
      ESTABLISHED,
      INVALID,
      CLEAR,
      VXLAN,
      IPIP,
      '-j MARK --set-mark 0/0x20000 # Start of tier default',
      '-m mark --mark 0/0x20000 -j cali-po-a/b',
      '-m mark --mark 0x10000/0x10000 -j RETURN # Return if policy accepted',
      '-m mark --mark 0/0x20000 -j DROP # End of tier default. Drop if no policies passed packet',
      '-j MARK --set-mark 0/0x20000 # Start of tier late',
      '-m mark --mark 0/0x20000 -j cali-po-d',
      '-m mark --mark 0x10000/0x10000 -j RETURN # Return if policy accepted',
      '-m mark --mark 0/0x20000 -j DROP # End of tier late. Drop if no policies passed packet',
      '-j cali-pro-p',
      '-m mark --mark 0x10000/0x10000 -j RETURN # Return if profile accepted',
      FINAL,
    ],
  },
  {
    name: 'allow action RETURN and no INVALID check',
    ep: localEndpoint('tap2'),
    config: { filterAllowAction: 'RETURN', disableConntrackInvalidCheck: true },
    to: ['-m conntrack --ctstate RELATED,ESTABLISHED -j MARK --set-mark 0x10000/0x10000', '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN', CLEAR, FINAL],
    from: [
      '-m conntrack --ctstate RELATED,ESTABLISHED -j MARK --set-mark 0x10000/0x10000',
      '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
      CLEAR,
      VXLAN,
      IPIP,
      FINAL,
    ],
  },
];

describe('renderEndpointChains', () => {
  for (const c of cases) {
    it(c.name, () => {
      const config = { ...DEFAULT_DATAPLANE_CONFIG, ...c.config };
      for (const family of [4, 6] as const) {
        const [to, from] = renderEndpointChains(c.ep, family, config);
        assert.equal(to.name, `cali-tw-${c.ep.iface}`);
        assert.equal(from.name, `cali-fw-${c.ep.iface}`);
        assert.deepEqual(ruleLines(to.rules), c.to);
        assert.deepEqual(ruleLines(from.rules), c.from);
      }
    });
  }

  it('fails closed: every chain ends in an unconditional DROP', () => {
    for (const c of cases) {
      for (const chain of renderEndpointChains(c.ep, 4, { ...DEFAULT_DATAPLANE_CONFIG, ...c.config })) {
        const last = chain.rules[chain.rules.length - 1];
        assert.deepEqual([last?.match, last?.action], ['', '-j DROP'], `${c.name}: ${chain.name}`);
      }
    }
  });
});
