import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyingPolicies } from '../agent/index.js';
import type { SyncUpdate } from '../datastore/index.js';
import { API_VERSION, felixEndpointStatusKey, felixHostStatusKey, resourceKey } from '../model/index.js';
import { collectionPrefix } from '../neutron/index.js';
import { ConsoleState } from './console-state.js';
import { topology } from './topology.js';
import { endpointsPage, hostDetail, hostsPage, networksPage, overview, vmDetail } from './views.js';

let rev = 0;
const put = (key: string, value: object): SyncUpdate => ({ key, value: JSON.stringify(value), revision: ++rev });
const del = (key: string): SyncUpdate => ({ key, value: undefined, revision: ++rev });
const res = (kind: string, name: string, spec: object, extra: object = {}): object => ({ apiVersion: API_VERSION, kind, metadata: { name, ...extra }, spec });
const NS = 'openstack-region-no-region';
const NOW = Date.parse('2026-12-08T00:00:30Z');
const SG = '11111111-2222-3333-4444-555555555555';

function endpoint(host: string, [vm, port, ip]: readonly [string, string, string], labels: Record<string, string> = {}): SyncUpdate {
  const name = `${host}-openstack-${vm}-${port}`;
  return put(
    resourceKey({ kind: 'WorkloadEndpoint', namespace: NS, name }),
    res(
      'WorkloadEndpoint',
      name,
      {
        orchestrator: 'openstack',
        workload: vm,
        node: host,
        endpoint: port,
        interfaceName: `tap${port.slice(0, 11)}`,
        mac: '00:11:22:33:44:55',
        ipNetworks: [`${ip}/32`],
      },
      { namespace: NS, labels: { 'projectcalico.org/namespace': NS, 'projectcalico.org/orchestrator': 'openstack', ...labels } },
    ),
  );
}

function cloud(): ConsoleState {
  const s = new ConsoleState();
  s.apply([
    put(resourceKey({ kind: 'Node', name: 'compute-1' }), res('Node', 'compute-1', { bgp: { ipv4Address: '198.18.0.11/24' } })),
    put(resourceKey({ kind: 'Node', name: 'compute-2' }), res('Node', 'compute-2', { bgp: { ipv4Address: '198.18.0.12/24' } })),
    put(resourceKey({ kind: 'Node', name: 'rr-1' }), res('Node', 'rr-1', { bgp: { ipv4Address: '198.18.0.2/24', routeReflectorClusterID: '224.0.0.1' } })),
    put(resourceKey({ kind: 'BGPPeer', name: 'border' }), res('BGPPeer', 'border', { peerIP: '198.18.0.254', asNumber: 65000 })),
    put(felixHostStatusKey('no-region', 'compute-1'), { time: '2026-12-08T00:00:00Z', uptime: 42, first_update: false }),
    put(resourceKey({ kind: 'CalicoNodeStatus', name: 'compute-1' }), {
      ...res('CalicoNodeStatus', 'compute-1', { node: 'compute-1', classes: ['Agent', 'BGP'] }),
      status: {
        bgp: {
          numberEstablishedV4: 1,
          numberEstablishedV6: 0,
          numberNotEstablishedV4: 1,
          numberNotEstablishedV6: 0,
          peersV4: [
            { peerIP: '198.18.0.2', type: 'RouteReflector', state: 'Established', since: '2026-12-08T00:00:00Z' },
            { peerIP: '198.18.0.254', type: 'GlobalPeer', state: 'Active', info: 'Connection refused' },
          ],
        },
      },
    }),
    put(`${collectionPrefix('networks')}n1`, { id: 'n1', name: 'web', project_id: 'p', shared: false, 'router:external': false, subnets: ['s1'] }),
    put(`${collectionPrefix('subnets')}s1`, {
      id: 's1',
      name: 'web-v4',
      network_id: 'n1',
      ip_version: 4,
      cidr: '198.18.60.0/24',
      gateway_ip: '198.18.60.1',
      allocation_pools: [{ start: '198.18.60.2', end: '198.18.60.101' }],
    }),
    put(`${collectionPrefix('security-groups')}${SG}`, { id: SG, name: 'web', description: '' }),
    endpoint('compute-1', ['vm-a', 'port-a', '198.18.60.10'], { [`sg.projectcalico.org/openstack-${SG}`]: 'web' }),
    endpoint('compute-2', ['vm-b', 'port-b', '198.18.60.11']),
    put(felixEndpointStatusKey('no-region', { host: 'compute-1', workload: 'vm-a', endpoint: 'port-a' }), { status: 'up' }),
  ]);
  for (const [id, ip] of [
    ['port-a', '198.18.60.10'],
    ['port-b', '198.18.60.11'],
  ] as const) {
    s.apply([
      put(`${collectionPrefix('ports')}${id}`, {
        id,
        name: `${id}-name`,
        network_id: 'n1',
        device_id: id === 'port-a' ? 'vm-a' : 'vm-b',
        device_owner: 'compute:nova',
        status: 'ACTIVE',
        fixed_ips: [{ subnet_id: 's1', ip_address: ip }],
        security_groups: id === 'port-a' ? [SG] : [],
        'binding:host_id': 'compute-1',
      }),
    ]);
  }
  return s;
}

describe('console state and views (pure, fed like the syncer feeds them)', () => {
  it('hosts: alive by their report, sessions and VM ports counted', () => {
    const s = cloud();
    const hosts = hostsPage(s, {}, NOW);
    assert.deepEqual(
      hosts.items.map((h) => [h.name, h.alive, h.sessionsEstablished, h.sessionsTotal, h.endpoints, h.endpointsUp]),
      [
        ['compute-1', true, 1, 2, 1, 1],
        ['compute-2', false, 0, 0, 1, 0],
        ['rr-1', false, 0, 0, 0, 0],
      ],
    );
    assert.deepEqual(
      hostsPage(s, { state: 'alive' }, NOW).items.map((h) => h.name),
      ['compute-1'],
    );
    assert.deepEqual(
      hostsPage(s, { q: 'RR' }, NOW).items.map((h) => h.name),
      ['rr-1'],
    );
    const d = hostDetail(s, 'compute-1', {}, NOW);
    assert.deepEqual(
      d?.sessions.map((x) => [x.peerName, x.state]),
      [
        ['rr-1', 'Established'],
        ['border', 'Active'],
      ],
    );
    // The agent's report goes (its lease expired): the host is not alive any more.
    s.apply([del(felixHostStatusKey('no-region', 'compute-1'))]);
    assert.equal(hostDetail(s, 'compute-1', {}, NOW)?.host.alive, false);
    assert.equal(overview(s, NOW).hostsAlive, 0);
  });

  it('endpoints move between hosts and vanish, with the counters kept right', () => {
    const s = cloud();
    assert.equal(overview(s, NOW).endpoints, 2);
    const name = 'compute-2-openstack-vm-b-port-b';
    // A live migration: networking-calico deletes the endpoint on the old host and writes one on the new.
    s.apply([del(resourceKey({ kind: 'WorkloadEndpoint', namespace: NS, name })), endpoint('compute-1', ['vm-b', 'port-b', '198.18.60.11'])]);
    assert.equal(s.endpointsByHost.get('compute-1')?.size, 2);
    assert.equal(s.endpointsByHost.has('compute-2'), false);
    s.apply([del(resourceKey({ kind: 'WorkloadEndpoint', namespace: NS, name: 'compute-1-openstack-vm-b-port-b' }))]);
    assert.equal(s.endpoints.size, 1);
    assert.equal(s.endpoints.has(`${NS}/${name}`), false);
    assert.deepEqual(
      endpointsPage(s, { q: '198.18.60.10' }).items.map((e) => [e.workload, e.portName, e.networkName, e.status]),
      [['vm-a', 'port-a-name', 'web', 'up']],
    );
  });

  it('networks: addresses in use out of the allocation pools, kept as ports come and go', () => {
    const s = cloud();
    const [n] = networksPage(s, {}).items;
    assert.deepEqual(
      n?.subnets.map((x) => [x.used, x.size, x.percent]),
      [[2, '100', 2]],
    );
    s.apply([del(`${collectionPrefix('ports')}port-b`)]);
    assert.equal(networksPage(s, {}).items[0]?.subnets[0]?.used, 1);
  });

  it("a VM's page: its port, groups and the policies in the agent's order, rules in words", () => {
    const s = cloud();
    const policy = (name: string, spec: object): SyncUpdate =>
      put(resourceKey({ kind: 'NetworkPolicy', namespace: NS, name }), res('NetworkPolicy', name, spec, { namespace: NS }));
    s.apply([
      policy(`ossg.default.${SG}`, {
        order: 10,
        selector: `has(sg.projectcalico.org/openstack-${SG})`,
        types: ['Ingress', 'Egress'],
        ingress: [{ action: 'Allow', ipVersion: 4, protocol: 'TCP', destination: { ports: [22] }, source: { nets: ['0.0.0.0/0'] } }],
        egress: [{ action: 'Allow', source: { selector: `has(sg.projectcalico.org/openstack-${SG})` } }],
      }),
      policy('other', { selector: 'all()', order: 5, types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'UDP' }] }),
      policy('elsewhere', { selector: 'has(nope)', types: ['Ingress'] }),
    ]);
    const raw = (id: string): string => {
      const e = s.endpoints.get(id)!;
      return JSON.stringify(
        res(
          'WorkloadEndpoint',
          e.name,
          { orchestrator: 'openstack', workload: e.workload, node: e.host, endpoint: e.portId, ipNetworks: e.ips.map((i) => `${i}/32`) },
          { namespace: e.namespace, labels: { [`sg.projectcalico.org/openstack-${SG}`]: 'web' } },
        ),
      );
    };
    const vm = vmDetail(s, 'vm-a', (id) =>
      applyingPolicies(
        { key: resourceKey({ kind: 'WorkloadEndpoint', namespace: NS, name: s.endpoints.get(id)!.name }), value: raw(id) },
        [...s.policies].map(([key, value]) => ({ key, value })),
      ),
    );
    assert.ok(vm !== undefined);
    const [ep] = vm.endpoints;
    assert.deepEqual(ep?.securityGroups, [{ id: SG, name: 'web' }]);
    assert.deepEqual(
      ep?.tiers.map((t) => [t.name, t.ingress.map((p) => p.securityGroup ?? p.name), t.egress.map((p) => p.securityGroup ?? p.name)]),
      [['default', ['other', 'web'], ['web']]],
    );
    assert.deepEqual(ep?.tiers[0]?.ingress[1]?.rules, [{ action: 'Allow', text: 'IPv4 TCP from 0.0.0.0/0 to port 22' }]);
    assert.deepEqual(ep?.tiers[0]?.egress[0]?.rules, [{ action: 'Allow', text: 'any protocol from members of group web' }]);
    assert.equal(
      vmDetail(s, 'no-such-vm', () => []),
      undefined,
    );
  });

  it('topology: reflector inside, hosts around, border outside, one edge per pair by its worst state', () => {
    const t = topology(cloud(), NOW);
    assert.deepEqual(
      t.nodes.map((n) => [n.id, n.role, n.alive]),
      [
        ['node:rr-1', 'reflector', false],
        ['node:compute-1', 'host', true],
        ['node:compute-2', 'host', false],
        ['ext:border', 'external', true],
      ],
    );
    assert.deepEqual(
      t.edges.map((e) => [e.from, e.to, e.state]),
      [
        ['ext:border', 'node:compute-1', 'Active'],
        ['node:compute-1', 'node:rr-1', 'Established'],
      ],
    );
    assert.equal(t.omittedEstablished, 0);
  });

  it('counters follow changes under the same key: an endpoint rewritten on another host, a port moved to another subnet, statuses', () => {
    const s = cloud();
    const name = 'compute-2-openstack-vm-b-port-b';
    const key = resourceKey({ kind: 'WorkloadEndpoint', namespace: NS, name });
    const moved = JSON.parse(endpoint('compute-2', ['vm-b', 'port-b', '198.18.60.11']).value ?? '{}') as { spec: { node: string } };
    moved.spec.node = 'compute-1';
    s.apply([put(key, moved)]);
    assert.equal(s.endpointsByHost.get('compute-1')?.size, 2);
    assert.equal(s.endpointsByHost.has('compute-2'), false);
    assert.equal(s.endpointsByWorkload.get('vm-b')?.size, 1);
    s.apply([
      put(`${collectionPrefix('subnets')}s2`, {
        id: 's2',
        name: 'other',
        network_id: 'n1',
        ip_version: 4,
        cidr: '198.18.61.0/24',
        gateway_ip: null,
        allocation_pools: [],
      }),
    ]);
    const port = { ...s.ports.get('port-b')!, fixed_ips: [{ subnet_id: 's2', ip_address: '198.18.61.5' }] };
    s.apply([put(`${collectionPrefix('ports')}port-b`, port)]);
    assert.equal(s.addressesInUse.get('s1'), 1);
    assert.equal(s.addressesInUse.get('s2'), 1);
    assert.equal(s.portsPerNetwork.get('n1'), 2);
    const status = felixEndpointStatusKey('no-region', { host: 'compute-1', workload: 'vm-a', endpoint: 'port-a' });
    assert.equal(s.endpointsUp, 1);
    s.apply([put(status, { status: 'up' })]);
    assert.equal(s.endpointsUp, 1, 'the same status again counts once');
    s.apply([put(status, { status: 'down' })]);
    assert.equal(s.endpointsUp, 0);
    s.apply([del(status)]);
    assert.equal(s.endpointsUp, 0);
  });

  it('follows the agents of its region only (brindle node --region writes under region-<r>)', () => {
    const s = new ConsoleState('region-r1');
    s.apply([
      put(felixHostStatusKey('no-region', 'a'), { time: '2026-12-08T00:00:00Z' }),
      put(felixHostStatusKey('region-r1', 'b'), { time: '2026-12-08T00:00:00Z' }),
    ]);
    assert.deepEqual([...s.hostReports.keys()], ['b']);
  });

  it('a dedicated reflector (no agent report) is alive while its BGP status is fresh', () => {
    const s = cloud();
    const status = (at: string): SyncUpdate =>
      put(resourceKey({ kind: 'CalicoNodeStatus', name: 'rr-1' }), {
        ...res('CalicoNodeStatus', 'rr-1', { node: 'rr-1', classes: ['BGP'] }),
        status: { lastUpdated: at },
      });
    s.apply([status(new Date(NOW - 10_000).toISOString())]);
    assert.equal(hostsPage(s, { q: 'rr-1' }, NOW).items[0]?.alive, true);
    s.apply([status(new Date(NOW - 200_000).toISOString())]);
    assert.equal(hostsPage(s, { q: 'rr-1' }, NOW).items[0]?.alive, false);
    // A compute host is alive by its agent's report only.
    assert.equal(hostsPage(s, { q: 'compute-2' }, NOW).items[0]?.alive, false);
  });

  it('a value that does not decode is listed, not fatal, and cleared when fixed', () => {
    const s = cloud();
    const key = resourceKey({ kind: 'BGPPeer', name: 'bad' });
    s.apply([{ key, value: '{"nope"', revision: ++rev }]);
    assert.equal(overview(s, NOW).invalid[0]?.key, key);
    s.apply([del(key)]);
    assert.deepEqual(overview(s, NOW).invalid, []);
  });
});
