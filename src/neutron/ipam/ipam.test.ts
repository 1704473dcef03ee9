import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NeutronApiError } from '../errors.js';
import { eui64Address } from './eui64.js';
import { pickAddress } from './pick-address.js';
import { planSubnet } from './subnet-plan.js';

function faultType(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof NeutronApiError, String(err));
    return err.type;
  }
  return 'no error';
}

describe('planSubnet (Neutron defaults and checks)', () => {
  it('IPv4 defaults: gateway first host, pool the rest without network and broadcast', () => {
    assert.deepEqual(planSubnet({ cidr: '198.18.0.0/24', gatewayIp: undefined, allocationPools: undefined }), {
      family: 4,
      cidr: '198.18.0.0/24',
      gatewayIp: '198.18.0.1',
      allocationPools: [{ start: '198.18.0.2', end: '198.18.0.254' }],
    });
  });

  it('a gateway in the middle splits the default pool; no gateway keeps one pool', () => {
    assert.deepEqual(planSubnet({ cidr: '198.18.0.0/28', gatewayIp: '198.18.0.8', allocationPools: undefined }).allocationPools, [
      { start: '198.18.0.1', end: '198.18.0.7' },
      { start: '198.18.0.9', end: '198.18.0.14' },
    ]);
    const none = planSubnet({ cidr: '198.18.0.0/28', gatewayIp: null, allocationPools: undefined });
    assert.equal(none.gatewayIp, null);
    assert.deepEqual(none.allocationPools, [{ start: '198.18.0.1', end: '198.18.0.14' }]);
  });

  it('IPv6 defaults skip the subnet-router anycast address; host bits are cleared', () => {
    const p = planSubnet({ cidr: '2001:db8:99::5/64', gatewayIp: undefined, allocationPools: undefined });
    assert.equal(p.cidr, '2001:db8:99::/64');
    assert.equal(p.gatewayIp, '2001:db8:99::1');
    assert.deepEqual(p.allocationPools, [{ start: '2001:db8:99::2', end: '2001:db8:99:0:ffff:ffff:ffff:ffff' }]);
  });

  it('a gateway outside the subnet is accepted, as Neutron (it cannot be checked): the pools keep every usable address', () => {
    const off = planSubnet({ cidr: '198.18.0.0/29', gatewayIp: '198.18.1.1', allocationPools: undefined });
    assert.equal(off.gatewayIp, '198.18.1.1');
    assert.deepEqual(off.allocationPools, [{ start: '198.18.0.1', end: '198.18.0.6' }]);
    assert.equal(planSubnet({ cidr: '2001:db8:0:1::/64', gatewayIp: '2001:db8::1', allocationPools: undefined }).gatewayIp, '2001:db8::1');
  });

  it('rejects bad pools and gateways with Neutron fault types', () => {
    const pool = (start: string, end: string) => ({ cidr: '198.18.0.0/24', gatewayIp: undefined, allocationPools: [{ start, end }] });
    assert.equal(
      faultType(() => planSubnet(pool('198.18.0.50', '198.18.0.10'))),
      'InvalidAllocationPool',
    );
    assert.equal(
      faultType(() => planSubnet(pool('198.18.0.10', '198.18.1.10'))),
      'OutOfBoundsAllocationPool',
    );
    assert.equal(
      faultType(() => planSubnet(pool('198.18.0.0', '198.18.0.10'))),
      'OutOfBoundsAllocationPool',
    );
    assert.equal(
      faultType(() => planSubnet(pool('198.18.0.1', '198.18.0.10'))),
      'GatewayConflictWithAllocationPools',
    );
    assert.equal(
      faultType(() =>
        planSubnet({
          cidr: '198.18.0.0/24',
          gatewayIp: undefined,
          allocationPools: [
            { start: '198.18.0.10', end: '198.18.0.20' },
            { start: '198.18.0.15', end: '198.18.0.30' },
          ],
        }),
      ),
      'OverlappingAllocationPools',
    );
    assert.equal(
      faultType(() => planSubnet({ cidr: '198.18.0.0/24', gatewayIp: '2001:db8::1', allocationPools: undefined })),
      'InvalidInput',
    );
    assert.equal(
      faultType(() => planSubnet({ cidr: '198.18.0.0/24', gatewayIp: '198.18.0.255', allocationPools: undefined })),
      'InvalidInput',
    );
    assert.equal(
      faultType(() => planSubnet({ cidr: 'nonsense', gatewayIp: undefined, allocationPools: undefined })),
      'InvalidInput',
    );
  });
});

describe('pickAddress', () => {
  const pools = [{ start: '198.18.0.2', end: '198.18.0.6' }];

  it('never returns a taken address, and finds the last free one', () => {
    const taken = new Set(['198.18.0.2', '198.18.0.3', '198.18.0.5', '198.18.0.6']);
    for (let i = 0; i < 20; i++) assert.equal(pickAddress(pools, taken), '198.18.0.4');
    taken.add('198.18.0.4');
    assert.equal(pickAddress(pools, taken), undefined);
  });

  it('spreads picks at random over the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(pickAddress(pools, new Set()) ?? '');
    assert.equal(seen.size, 5);
  });

  it('handles IPv6 pools of 2^64 addresses', () => {
    const ip = pickAddress([{ start: '2001:db8::2', end: '2001:db8::ffff:ffff:ffff:ffff' }], new Set());
    assert.match(ip ?? '', /^2001:db8::/);
  });
});

describe('eui64Address', () => {
  it('derives the SLAAC address from the MAC', () => {
    assert.equal(eui64Address('2001:db8:1::/64', 'fa:16:3e:12:34:56'), '2001:db8:1:0:f816:3eff:fe12:3456');
    assert.equal(eui64Address('2001:db8:1::/80', 'fa:16:3e:12:34:56'), undefined, 'SLAAC needs a /64');
    assert.equal(eui64Address('198.18.0.0/24', 'fa:16:3e:12:34:56'), undefined);
  });
});
