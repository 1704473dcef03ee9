import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderFloatingIpChains } from './render-floating-ip-chains.js';
import { localEndpoint, ruleLines } from './testing/index.js';

describe('renderFloatingIpChains', () => {
  const endpoints = [
    localEndpoint('tap2', { ipv4Nat: [{ internal: '10.65.0.3', external: '172.24.4.20' }] }),
    localEndpoint('tap1', {
      ipv4Nat: [
        { internal: '10.65.0.2', external: '172.24.4.10/32' },
        // The same external IP claimed twice: the lowest internal wins.
        { internal: '10.65.0.9', external: '172.24.4.10' },
      ],
    }),
  ];

  it('v4: DNAT per external, hairpin SNAT per internal, sorted', () => {
    const [dnat, snat] = renderFloatingIpChains(endpoints, 4);
    assert.equal(dnat.name, 'cali-fip-dnat');
    assert.equal(snat.name, 'cali-fip-snat');
    assert.deepEqual(ruleLines(dnat.rules), [
      '--destination 172.24.4.10/32 -j DNAT --to-destination 10.65.0.2',
      '--destination 172.24.4.20/32 -j DNAT --to-destination 10.65.0.3',
    ]);
    assert.deepEqual(ruleLines(snat.rules), [
      '--source 10.65.0.2/32 --destination 10.65.0.2/32 -j SNAT --to-source 172.24.4.10',
      '--source 10.65.0.3/32 --destination 10.65.0.3/32 -j SNAT --to-source 172.24.4.20',
      '--source 10.65.0.9/32 --destination 10.65.0.9/32 -j SNAT --to-source 172.24.4.10',
    ]);
  });

  it('v6: both chains empty', () => {
    assert.deepEqual(renderFloatingIpChains(endpoints, 6), [
      { name: 'cali-fip-dnat', rules: [] },
      { name: 'cali-fip-snat', rules: [] },
    ]);
  });
});
