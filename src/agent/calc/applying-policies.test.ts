import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION, resourceKey } from '../../model/index.js';
import { applyingPolicies } from './applying-policies.js';

const NS = 'openstack-region-no-region';
const doc = (kind: string, name: string, spec: object, meta: object = {}): string =>
  JSON.stringify({ apiVersion: API_VERSION, kind, metadata: { name, ...meta }, spec });
const np = (name: string, spec: object, namespace = NS) => ({
  key: resourceKey({ kind: 'NetworkPolicy', namespace, name }),
  value: doc('NetworkPolicy', name, spec, { namespace }),
});
const gnp = (name: string, spec: object) => ({ key: resourceKey({ kind: 'GlobalNetworkPolicy', name }), value: doc('GlobalNetworkPolicy', name, spec) });
const endpoint = {
  key: resourceKey({ kind: 'WorkloadEndpoint', namespace: NS, name: 'h-openstack-vm-port' }),
  value: doc('WorkloadEndpoint', 'h-openstack-vm-port', { node: 'h', ipNetworks: ['198.18.60.10/32'] }, { namespace: NS, labels: { role: 'web' } }),
};

describe('applyingPolicies: what the agent would program for one endpoint, in order', () => {
  it("picks by selector within the policy's namespace, orders by tier, order and name, per direction", () => {
    const tiers = applyingPolicies(endpoint, [
      np('b', { selector: "role == 'web'", order: 20, types: ['Ingress'], ingress: [{ action: 'Allow' }] }),
      np('a', { selector: "role == 'web'", order: 20, types: ['Ingress', 'Egress'], egress: [{ action: 'Deny' }] }),
      np('first', { selector: 'all()', order: 1, types: ['Egress'] }),
      np('elsewhere', { selector: 'all()' }, 'other-namespace'),
      np('no-match', { selector: "role == 'db'" }),
      gnp('global', { selector: "role == 'web'", order: 5, types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'UDP' }] }),
      gnp('tiered', { tier: 'security', selector: 'all()', types: ['Ingress'] }),
      { key: resourceKey({ kind: 'NetworkPolicy', namespace: NS, name: 'broken' }), value: '{"nope"' },
    ]);
    assert.deepEqual(
      tiers.map((t) => [t.name, t.ingress.map((p) => p.name), t.egress.map((p) => p.name)]),
      [
        ['security', ['tiered'], []],
        ['default', ['global', 'a', 'b'], ['first', 'a']],
      ],
    );
    const b = tiers[1]?.ingress[2];
    assert.deepEqual(b, { kind: 'NetworkPolicy', name: 'b', namespace: NS, order: 20, rules: [{ action: 'Allow' }] });
    assert.equal(tiers[0]?.ingress[0]?.order, undefined, 'an unset order is shown as unset, not Infinity');
  });

  it('an endpoint that does not decode gets nothing (the agent treats it as absent)', () => {
    assert.deepEqual(applyingPolicies({ key: endpoint.key, value: '{}' }, [np('any', { selector: 'all()' })]), []);
    assert.deepEqual(applyingPolicies({ key: endpoint.key, value: undefined }, []), []);
  });
});
