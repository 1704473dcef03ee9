// State sequences through the calculation graph (no root, no kernel): after each step the whole
// desired state holds the dataplane's invariants, and the final state does not depend on the
// order the datastore delivered the same keys in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KvChange } from './calc-graph.js';
import { StateSequence, stateText } from './testing/state-sequence.js';

const NS = 'openstack';
const R = '/calico/resources/v3/projectcalico.org/';

function wep(name: string, node: string, ip: string, sgs: readonly string[]): KvChange {
  const labels: Record<string, string> = {};
  for (const sg of sgs) labels[`sg.projectcalico.org/openstack-${sg}`] = 'x';
  return {
    key: `${R}workloadendpoints/${NS}/${name}`,
    value: JSON.stringify({
      kind: 'WorkloadEndpoint',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name, namespace: NS, labels },
      spec: { orchestrator: 'openstack', workload: `wl-${name}`, node, endpoint: `ep-${name}`, interfaceName: `tap${name}`, ipNetworks: [`${ip}/32`] },
    }),
  };
}

/** A security group whose ingress allows members of `from` (a remote group: an IP set). */
function sg(name: string, from: string): KvChange {
  return {
    key: `${R}networkpolicies/${NS}/ossg.default.${name}`,
    value: JSON.stringify({
      kind: 'NetworkPolicy',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name: `ossg.default.${name}`, namespace: NS },
      spec: {
        selector: `has(sg.projectcalico.org/openstack-${name})`,
        ingress: [{ action: 'Allow', source: { selector: `has(sg.projectcalico.org/openstack-${from})` } }],
        egress: [{ action: 'Allow' }],
      },
    }),
  };
}

const gone = (c: KvChange): KvChange => ({ key: c.key, value: undefined });
const members = (s: ReturnType<StateSequence['step']>): string[] => [...s.ipSets.values()].flat().sort();

describe('calculation state sequences', () => {
  it('an endpoint, then its group, then remote members coming and going, then the group gone', () => {
    const seq = new StateSequence('h1');
    let s = seq.step([wep('a', 'h1', '198.18.0.1', ['web'])]);
    assert.equal(s.endpoints.size, 1);
    assert.equal(s.rules.size, 0, 'no policy yet');
    s = seq.step([sg('web', 'db')]);
    assert.equal(s.rules.size, 1);
    assert.deepEqual(members(s), [], 'the remote group has no member yet');
    s = seq.step([wep('r1', 'h2', '198.19.0.1', ['db']), wep('r2', 'h3', '198.19.0.2', ['db'])]);
    assert.deepEqual(members(s), ['198.19.0.1/32', '198.19.0.2/32']);
    s = seq.step([wep('r1', 'h2', '198.19.0.1', ['other'])]);
    assert.deepEqual(members(s), ['198.19.0.2/32'], 'a member that leaves the group leaves the set');
    s = seq.step([gone(sg('web', 'db'))]);
    assert.equal(s.rules.size, 0);
    assert.equal(s.ipSets.size, 0, 'the set goes with the last rule naming it');
    s = seq.step([gone(wep('a', 'h1', '198.18.0.1', ['web']))]);
    assert.equal(s.endpoints.size, 0);
  });

  it('a local endpoint moving to another group switches its rules and sets in one step', () => {
    const seq = new StateSequence('h1');
    // web lets db's members in; db lets web's members in.
    let s = seq.step([sg('web', 'db'), sg('db', 'web'), wep('a', 'h1', '198.18.0.1', ['web']), wep('r', 'h2', '198.19.0.9', ['db'])]);
    assert.deepEqual([...s.rules.keys()], [`np/${NS}/ossg.default.web`]);
    assert.deepEqual(members(s), ['198.19.0.9/32'], "web's rule: the members of db");
    s = seq.step([wep('a', 'h1', '198.18.0.1', ['db'])]);
    assert.deepEqual([...s.rules.keys()], [`np/${NS}/ossg.default.db`]);
    assert.equal(s.ipSets.size, 1, "only db's rule's set: the members of web");
    assert.deepEqual(members(s), [], 'and a left web, so it has none');
  });

  it('the same keys delivered in any order end in the same desired state', () => {
    const keys = [
      sg('web', 'db'),
      sg('db', 'web'),
      wep('a', 'h1', '198.18.0.1', ['web']),
      wep('b', 'h1', '198.18.0.2', ['db']),
      wep('r1', 'h2', '198.19.0.1', ['db']),
      wep('r2', 'h2', '198.19.0.2', ['web', 'db']),
    ];
    const orders = [keys, [...keys].reverse(), [keys[2], keys[4], keys[0], keys[5], keys[1], keys[3]]].map((o) =>
      o.filter((k): k is KvChange => k !== undefined),
    );
    const finals = orders.map((order) => {
      const seq = new StateSequence('h1');
      for (const k of order) seq.step([k]);
      return stateText(seq.state());
    });
    const together = new StateSequence('h1');
    together.step(keys);
    for (const f of finals) assert.equal(f, stateText(together.state()));
  });
});
