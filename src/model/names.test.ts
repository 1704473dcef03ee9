import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openstackNamespace, parseWorkloadEndpointName, regionString, sanitizeLabel, tapInterfaceName, validateRegion, workloadEndpointName } from './names.js';
import {
  dhcpSubnetKey,
  electionKey,
  felixEndpointStatusKey,
  felixHostStatusKey,
  parseFelixStatusKey,
  parseResourceKey,
  resourceKey,
  resourcePrefix,
} from './keys.js';

describe('names', () => {
  it('builds WorkloadEndpoint names with -- escaping (reference §1.4) and parses them back', () => {
    const id = { node: 'felix-host-1', orchestrator: 'openstack', workload: 'instance-1', endpoint: 'DEADBEEF-1234-5678' };
    const name = workloadEndpointName(id);
    assert.equal(name, 'felix--host--1-openstack-instance--1-DEADBEEF--1234--5678');
    assert.deepEqual(parseWorkloadEndpointName(name), id);
    assert.equal(parseWorkloadEndpointName('a-b-c'), undefined);
    assert.equal(parseWorkloadEndpointName('a-b-c-d-e'), undefined);
  });

  it('names the tap tap + 11 characters of the port id', () => {
    assert.equal(tapInterfaceName('DEADBEEF-1234-5678'), 'tapDEADBEEF-12');
    assert.equal(tapInterfaceName('8f0b4e6e-0c1d-4b8e-9a39-2f6c5d1e0a77'), 'tap8f0b4e6e-0c');
  });

  it('sanitises label values like networking-calico', () => {
    assert.equal(sanitizeLabel('My default SG!'), 'My_default_SG');
    assert.equal(sanitizeLabel('--web--'), 'web');
    assert.equal(sanitizeLabel('x'.repeat(80)).length, 63);
    assert.equal(sanitizeLabel('ünïcode'), 'n_code');
  });

  it('derives namespaces and region strings, and rejects bad regions', () => {
    assert.equal(openstackNamespace(), 'openstack');
    assert.equal(openstackNamespace('r1'), 'openstack-region-r1');
    assert.equal(regionString(), 'no-region');
    assert.equal(regionString('r1'), 'region-r1');
    assert.throws(() => validateRegion('Bad_Region'), /DNS label/);
    assert.throws(() => validateRegion('a'.repeat(47)), /at most 46/);
  });
});

describe('keys', () => {
  it('lays out resource keys exactly as Calico does', () => {
    assert.equal(
      resourceKey({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: 'h-openstack-i-p' }),
      '/calico/resources/v3/projectcalico.org/workloadendpoints/openstack/h-openstack-i-p',
    );
    assert.equal(
      resourceKey({ kind: 'NetworkPolicy', namespace: 'openstack', name: 'ossg.default.x' }),
      '/calico/resources/v3/projectcalico.org/networkpolicies/openstack/ossg.default.x',
    );
    assert.equal(resourceKey({ kind: 'FelixConfiguration', name: 'default' }), '/calico/resources/v3/projectcalico.org/felixconfigurations/default');
    assert.equal(resourcePrefix('ippool'), '/calico/resources/v3/projectcalico.org/ippools/');
    assert.throws(() => resourceKey({ kind: 'WorkloadEndpoint', name: 'x' }), /namespaced/);
    assert.throws(() => resourceKey({ kind: 'Profile', name: 'a/b' }), /no "\/"/);
  });

  it('parses resource keys back', () => {
    const parsed = parseResourceKey('/calico/resources/v3/projectcalico.org/networkpolicies/openstack/ossg.default.x');
    assert.equal(parsed?.kind, 'NetworkPolicy');
    assert.equal(parsed?.namespace, 'openstack');
    assert.equal(parsed?.name, 'ossg.default.x');
    assert.equal(parseResourceKey('/calico/resources/v3/projectcalico.org/ippools/p1')?.kind, 'IPPool');
    assert.equal(parseResourceKey('/calico/resources/v3/projectcalico.org/widgets/x'), undefined);
    assert.equal(parseResourceKey('/calico/resources/v3/projectcalico.org/ippools/a/b'), undefined);
  });

  it('lays out the private keys of networking-calico and Felix', () => {
    assert.equal(dhcpSubnetKey('no-region', 's1'), '/calico/dhcp/v2/no-region/subnet/s1');
    assert.equal(felixHostStatusKey('no-region', 'h1'), '/calico/felix/v2/no-region/host/h1/status');
    const ep = felixEndpointStatusKey('region-r1', { host: 'h1', workload: 'vm/1', endpoint: 'p1' });
    assert.equal(ep, '/calico/felix/v2/region-r1/host/h1/workload/openstack/vm%2f1/endpoint/p1');
    assert.deepEqual(parseFelixStatusKey('region-r1', ep), { type: 'endpoint', host: 'h1', orchestrator: 'openstack', workload: 'vm/1', endpoint: 'p1' });
    assert.deepEqual(parseFelixStatusKey('no-region', '/calico/felix/v2/no-region/host/h1/status'), { type: 'host', host: 'h1' });
    assert.equal(parseFelixStatusKey('no-region', '/calico/felix/v2/no-region/host/round-trip-check'), undefined);
    assert.equal(electionKey('no-region'), '/calico/openstack/v2/no-region/neutron_election');
  });
});
