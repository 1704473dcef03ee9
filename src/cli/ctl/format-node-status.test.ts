import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateKind } from '../../model/index.js';
import { formatNodeStatus, staleStatusWarning } from './format-node-status.js';

const NOW = Date.parse('2026-12-06T03:01:08Z');

const STATUS = validateKind('CalicoNodeStatus', {
  apiVersion: 'projectcalico.org/v3',
  kind: 'CalicoNodeStatus',
  metadata: { name: 'compute1' },
  spec: { node: 'compute1', classes: ['Agent', 'BGP'], updatePeriodSeconds: 10 },
  status: {
    lastUpdated: '2026-12-06T03:01:05Z',
    agent: { birdV4: { state: 'Ready', version: '2.0.12', routerID: '198.19.0.1' }, birdV6: { state: 'Ready', version: '2.0.12', routerID: '198.19.0.1' } },
    bgp: {
      numberEstablishedV4: 1,
      numberEstablishedV6: 0,
      numberNotEstablishedV4: 1,
      numberNotEstablishedV6: 0,
      peersV4: [
        { peerIP: '198.19.0.2', type: 'NodeMesh', state: 'Established', since: '2026-12-06 03:01:02', info: 'Established' },
        { peerIP: '203.0.113.10', type: 'GlobalPeer', state: 'Active', since: '2026-12-06 03:00:01', info: 'Active Socket: Connection refused' },
      ],
    },
  },
});

describe('formatNodeStatus', () => {
  it('prints BIRD, then a calicoctl-style table per family', () => {
    assert.equal(
      formatNodeStatus(STATUS, NOW),
      [
        'Brindle node compute1: BIRD is running (2.0.12, router id 198.19.0.1), status 3s old',
        '',
        'IPv4 BGP status',
        '+--------------+-------------------+-------------+---------------------+-----------------------------------+',
        '| PEER ADDRESS |     PEER TYPE     |    STATE    |        SINCE        |               INFO                |',
        '+--------------+-------------------+-------------+---------------------+-----------------------------------+',
        '| 198.19.0.2   | node-to-node mesh | Established | 2026-12-06 03:01:02 | Established                       |',
        '| 203.0.113.10 | global            | Active      | 2026-12-06 03:00:01 | Active Socket: Connection refused |',
        '+--------------+-------------------+-------------+---------------------+-----------------------------------+',
        '',
        'IPv6 BGP status',
        'No IPv6 peers found.',
        '',
      ].join('\n'),
    );
  });

  it('warns, under the headline, when BIRD refused the latest configuration', () => {
    const agent = {
      state: 'Ready' as const,
      version: '2.0.12',
      routerID: '198.19.0.1',
      lastConfigError:
        'BIRD rejected the new configuration (the previous one stays in force): bird.conf.new:120:3 Link-local addresses require defined interface',
    };
    const rejected = { ...STATUS, status: { ...STATUS.status, agent: { birdV4: agent, birdV6: agent } } };
    const lines = formatNodeStatus(rejected, NOW).split('\n');
    assert.equal(lines[2], `WARNING: ${agent.lastConfigError}`);
    assert.equal(lines[4], 'IPv4 BGP status');
  });

  it('centres headings like calicoctl, and names every peer type', () => {
    const doc = structuredClone(STATUS);
    const types = ['NodeMesh', 'NodePeer', 'GlobalPeer', 'RouteReflector', 'RouteReflectorClient'] as const;
    doc.status = {
      bgp: {
        numberEstablishedV4: 0,
        numberEstablishedV6: 5,
        numberNotEstablishedV4: 0,
        numberNotEstablishedV6: 0,
        peersV6: types.map((type, i) => ({ peerIP: `2001:db8::${i + 1}`, type, state: 'Established' as const, info: 'Established' })),
      },
    };
    const text = formatNodeStatus(doc, NOW);
    assert.match(text, /^Brindle node compute1: BIRD status unknown, status time unknown\n\nIPv4 BGP status\nNo IPv4 peers found\.\n\nIPv6 BGP status\n/);
    assert.ok(text.includes('| PEER ADDRESS |     PEER TYPE     |    STATE    | SINCE |    INFO     |'), text);
    for (const word of ['node-to-node mesh', 'node specific', 'global', 'route reflector', 'rr client']) assert.match(text, new RegExp(`\\| ${word} +\\|`));
  });

  it('says when IPv4 and IPv6 BIRDs differ, or BIRD is not ready', () => {
    const doc = structuredClone(STATUS);
    doc.status = { lastUpdated: '2026-12-06T02:59:08Z', agent: { birdV4: { state: 'Ready', version: '2.0.12' }, birdV6: { state: 'NotReady' } } };
    assert.match(formatNodeStatus(doc, NOW), /^Brindle node compute1: BIRD \(IPv4\) is running \(2\.0\.12\); BIRD \(IPv6\) is not ready, status 2m old\n/);
  });
});

describe('staleStatusWarning', () => {
  it('warns past 3 update periods, not before, and never when updates are off', () => {
    assert.equal(staleStatusWarning(STATUS, Date.parse('2026-12-06T03:01:35Z')), undefined);
    assert.equal(
      staleStatusWarning(STATUS, Date.parse('2026-12-06T03:06:05Z')),
      'warning: the status of node compute1 is 5m old, more than 3 × its update period of 10s: is brindle node still running there?',
    );
    const off = structuredClone(STATUS);
    delete off.spec.updatePeriodSeconds;
    assert.equal(staleStatusWarning(off, Date.parse('2027-01-01T00:00:00Z')), undefined);
  });
});
