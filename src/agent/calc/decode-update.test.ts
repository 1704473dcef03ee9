import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recordingLogger } from '../../lib/testing.js';
import { decodeUpdate } from './decode-update.js';

const R = '/calico/resources/v3/projectcalico.org/';
const wep = (node: string): string =>
  JSON.stringify({
    kind: 'WorkloadEndpoint',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name: 'w1', namespace: 'p1', labels: { app: 'web' } },
    spec: { orchestrator: 'openstack', workload: 'vm1', node, endpoint: 'e1', interfaceName: 'tapw1', ipNetworks: ['198.18.0.1/32'] },
  });

describe('decodeUpdate (the validation filter)', () => {
  it("reads an endpoint of this host in full and another host's for labels and addresses only", () => {
    const { logger } = recordingLogger();
    const local = decodeUpdate({ key: `${R}workloadendpoints/p1/w1`, value: wep('h1') }, 'h1', logger);
    assert.equal(local?.kind, 'endpoint');
    assert.ok(local?.kind === 'endpoint' && local.record?.local !== undefined);
    assert.equal(local.id, 'p1/w1');
    assert.deepEqual(local.record.nets, ['198.18.0.1/32']);
    assert.equal(local.record.labels['app'], 'web');
    assert.equal(local.record.labels['projectcalico.org/namespace'], 'p1', 'implicit labels added');
    const remote = decodeUpdate({ key: `${R}workloadendpoints/p1/w1`, value: wep('h2') }, 'h1', logger);
    assert.ok(remote?.kind === 'endpoint' && remote.record !== undefined);
    assert.equal(remote.record.local, undefined);
  });

  it('treats an invalid endpoint, policy or profile as deleted, and says so', () => {
    const { logger, lines } = recordingLogger();
    const ep = decodeUpdate({ key: `${R}workloadendpoints/p1/w1`, value: '{not json' }, 'h1', logger);
    assert.deepEqual(ep, { kind: 'endpoint', id: 'p1/w1', record: undefined });
    const pol = decodeUpdate(
      {
        key: `${R}networkpolicies/p1/pol`,
        value: JSON.stringify({
          kind: 'NetworkPolicy',
          apiVersion: 'projectcalico.org/v3',
          metadata: { name: 'pol', namespace: 'p1' },
          spec: { selector: 'has(' },
        }),
      },
      'h1',
      logger,
    );
    assert.deepEqual(pol, { kind: 'policy', id: 'np/p1/pol', policy: undefined });
    const prof = decodeUpdate({ key: `${R}profiles/pr`, value: '{}' }, 'h1', logger);
    assert.deepEqual(prof, { kind: 'profile', name: 'pr', profile: undefined });
    assert.deepEqual(
      lines.filter((l) => l.level === 'warn').map((l) => l.msg),
      [
        'Ignoring an invalid WorkloadEndpoint (treated as absent)',
        'Ignoring an invalid policy (treated as absent)',
        'Ignoring an invalid profile (treated as absent: deny)',
      ],
    );
  });

  it('scopes a NetworkPolicy to its namespace and keeps order, tier and types', () => {
    const value = JSON.stringify({
      kind: 'NetworkPolicy',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name: 'pol', namespace: 'p1' },
      spec: { selector: 'app == "web"', order: 5, ingress: [{ action: 'Allow' }] },
    });
    const ev = decodeUpdate({ key: `${R}networkpolicies/p1/pol`, value }, 'h1', recordingLogger().logger);
    assert.ok(ev?.kind === 'policy' && ev.policy !== undefined);
    assert.deepEqual(
      { order: ev.policy.order, tier: ev.policy.tier, ingressOn: ev.policy.ingressOn, egressOn: ev.policy.egressOn, scope: ev.policy.scope },
      { order: 5, tier: 'default', ingressOn: true, egressOn: false, scope: { namespace: 'p1' } },
    );
    assert.equal(JSON.stringify(ev.policy.selector).includes('projectcalico.org/namespace'), true, 'selector narrowed to the namespace');
    const g = decodeUpdate(
      {
        key: `${R}globalnetworkpolicies/g`,
        value: JSON.stringify({ kind: 'GlobalNetworkPolicy', apiVersion: 'projectcalico.org/v3', metadata: { name: 'g' }, spec: { selector: 'all()' } }),
      },
      'h1',
      recordingLogger().logger,
    );
    assert.ok(g?.kind === 'policy' && g.policy !== undefined);
    assert.equal(g.policy.id, 'gnp/g');
    assert.equal(g.policy.order, Number.POSITIVE_INFINITY, 'no order sorts last');
  });

  it("keeps the last good FelixConfiguration over an invalid one, and ignores other hosts' and unknown keys", () => {
    const { logger, lines } = recordingLogger();
    assert.equal(
      decodeUpdate(
        {
          key: `${R}felixconfigurations/default`,
          value: JSON.stringify({
            kind: 'FelixConfiguration',
            apiVersion: 'projectcalico.org/v3',
            metadata: { name: 'default' },
            spec: { reportingInterval: 7 },
          }),
        },
        'h1',
        logger,
      ),
      undefined,
    );
    assert.equal(lines.at(-1)?.msg, 'Ignoring an invalid FelixConfiguration');
    assert.equal(decodeUpdate({ key: `${R}felixconfigurations/node.h2`, value: '{}' }, 'h1', logger), undefined);
    assert.deepEqual(decodeUpdate({ key: `${R}felixconfigurations/node.h1`, value: undefined }, 'h1', logger), {
      kind: 'felixConfig',
      name: 'node.h1',
      spec: undefined,
    });
    assert.equal(decodeUpdate({ key: '/calico/ipam/v2/whatever', value: '{}' }, 'h1', logger), undefined);
  });

  it('reads an IP pool for outgoing NAT; a host endpoint for its labels and expected IPs', () => {
    const { logger } = recordingLogger();
    const pool = decodeUpdate(
      {
        key: `${R}ippools/p`,
        value: JSON.stringify({
          kind: 'IPPool',
          apiVersion: 'projectcalico.org/v3',
          metadata: { name: 'p' },
          spec: { cidr: '198.18.0.0/16', natOutgoing: true },
        }),
      },
      'h1',
      logger,
    );
    assert.deepEqual(pool, { kind: 'pool', name: 'p', pool: { cidr: '198.18.0.0/16', natOutgoing: true } });
    const hep = decodeUpdate(
      {
        key: `${R}hostendpoints/he`,
        value: JSON.stringify({
          kind: 'HostEndpoint',
          apiVersion: 'projectcalico.org/v3',
          metadata: { name: 'he', labels: { role: 'gw' } },
          spec: { node: 'h2', expectedIPs: ['198.18.9.9'] },
        }),
      },
      'h1',
      logger,
    );
    assert.deepEqual(hep, { kind: 'hostEndpoint', id: 'hostendpoint:he', record: { labels: { role: 'gw' }, nets: ['198.18.9.9/32'] } });
  });
});
