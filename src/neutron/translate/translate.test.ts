import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '../../model/index.js';
import type { NetworkRecord, PortRecord, SecurityGroupRecord, SecurityGroupRuleRecord, SubnetRecord } from '../records.js';
import { portToEndpoint, portWantsEndpoint } from './port-to-endpoint.js';
import { ruleToCalico, securityGroupToPolicy } from './sg-to-policy.js';
import { subnetToDhcp } from './subnet-to-dhcp.js';

const T = '2026-11-23T01:00:00Z';
const std = { tenant_id: 'jane3', project_id: 'jane3', description: '', tags: [], created_at: T, updated_at: T, revision_number: 1 };

function rule(over: Partial<SecurityGroupRuleRecord>): SecurityGroupRuleRecord {
  return {
    id: 'r',
    tenant_id: 'jane3',
    project_id: 'jane3',
    security_group_id: 'SGID-default',
    ethertype: 'IPv4',
    direction: 'ingress',
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_address_group_id: null,
    normalized_cidr: null,
    remote_group_id: null,
    description: '',
    tags: [],
    created_at: T,
    updated_at: T,
    revision_number: 0,
    ...over,
  };
}

const sg: SecurityGroupRecord = { ...std, id: 'SGID-default', name: 'My default SG', stateful: true, shared: false };

describe('security group → NetworkPolicy (reference §1.7)', () => {
  it('the default group gives exactly the reference policy', () => {
    const rules = [
      rule({ id: 'a', ethertype: 'IPv4', direction: 'ingress', remote_group_id: 'SGID-default' }),
      rule({ id: 'b', ethertype: 'IPv6', direction: 'ingress', remote_group_id: 'SGID-default' }),
      rule({ id: 'c', ethertype: 'IPv4', direction: 'egress' }),
      rule({ id: 'd', ethertype: 'IPv6', direction: 'egress' }),
    ];
    const policy = securityGroupToPolicy(sg, rules, 'openstack');
    assert.deepEqual(policy, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'ossg.default.SGID-default', namespace: 'openstack' },
      spec: {
        selector: 'has(sg.projectcalico.org/openstack-SGID-default)',
        ingress: [
          { action: 'Allow', ipVersion: 4, source: { selector: 'has(sg.projectcalico.org/openstack-SGID-default)' } },
          { action: 'Allow', ipVersion: 6, source: { selector: 'has(sg.projectcalico.org/openstack-SGID-default)' } },
        ],
        egress: [
          { action: 'Allow', ipVersion: 4 },
          { action: 'Allow', ipVersion: 6 },
        ],
      },
    });
    validateResource(policy);
  });

  const cases: [string, Partial<SecurityGroupRuleRecord>, unknown][] = [
    [
      'TCP 25-34 in from a prefix',
      { protocol: 'tcp', port_range_min: 25, port_range_max: 34, remote_ip_prefix: '1.2.3.0/24' },
      { action: 'Allow', ipVersion: 4, protocol: 6, source: { nets: ['1.2.3.0/24'] }, destination: { ports: ['25:34'] } },
    ],
    [
      'TCP 25-34 out to a prefix',
      { direction: 'egress', protocol: 'tcp', port_range_min: 25, port_range_max: 34, remote_ip_prefix: '1.2.3.0/24' },
      { action: 'Allow', ipVersion: 4, protocol: 6, destination: { nets: ['1.2.3.0/24'], ports: ['25:34'] } },
    ],
    [
      'egress ports with no remote keep the ports (calico PR #8026)',
      { direction: 'egress', protocol: 'udp', port_range_min: 53, port_range_max: 53 },
      { action: 'Allow', ipVersion: 4, protocol: 17, destination: { ports: [53] } },
    ],
    ['single port', { protocol: 'tcp', port_range_min: 22, port_range_max: 22 }, { action: 'Allow', ipVersion: 4, protocol: 6, destination: { ports: [22] } }],
    [
      'ICMP echo request',
      { protocol: 'icmp', port_range_min: 8, port_range_max: 0 },
      { action: 'Allow', ipVersion: 4, protocol: 'ICMP', icmp: { type: 8, code: 0 } },
    ],
    ['ICMP any type', { protocol: 'icmp' }, { action: 'Allow', ipVersion: 4, protocol: 'ICMP' }],
    ['ICMP type only', { protocol: 'icmp', port_range_min: 3 }, { action: 'Allow', ipVersion: 4, protocol: 'ICMP', icmp: { type: 3 } }],
    [
      'icmp on IPv6 is ICMPv6',
      { ethertype: 'IPv6', protocol: 'icmp', port_range_min: 128 },
      { action: 'Allow', ipVersion: 6, protocol: 'ICMPv6', icmp: { type: 128 } },
    ],
    ['ipv6-icmp', { ethertype: 'IPv6', protocol: 'ipv6-icmp' }, { action: 'Allow', ipVersion: 6, protocol: 'ICMPv6' }],
    ['protocol by number', { protocol: '47' }, { action: 'Allow', ipVersion: 4, protocol: 47 }],
    ['named non-port protocol', { protocol: 'gre' }, { action: 'Allow', ipVersion: 4, protocol: 47 }],
    ['any protocol', { protocol: 'any' }, { action: 'Allow', ipVersion: 4 }],
    ['remote group', { remote_group_id: 'other' }, { action: 'Allow', ipVersion: 4, source: { selector: 'has(sg.projectcalico.org/openstack-other)' } }],
    [
      'remote group egress with ports',
      { direction: 'egress', protocol: 'tcp', port_range_min: 80, port_range_max: 81, remote_group_id: 'x' },
      { action: 'Allow', ipVersion: 4, protocol: 6, destination: { selector: 'has(sg.projectcalico.org/openstack-x)', ports: ['80:81'] } },
    ],
  ];
  for (const [title, over, expected] of cases) {
    it(title, () => {
      const calico = ruleToCalico(rule(over));
      assert.deepEqual(calico, expected);
      validateResource({ ...securityGroupToPolicy(sg, [], 'openstack'), spec: { ingress: [calico] } });
    });
  }
});

describe('port → WorkloadEndpoint (reference §1.6)', () => {
  const network: NetworkRecord = {
    ...std,
    id: 'calico-network-id',
    name: 'calico-network-name',
    admin_state_up: true,
    mtu: 1500,
    status: 'ACTIVE',
    subnets: ['s4'],
    shared: true,
    availability_zone_hints: [],
    availability_zones: [],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'router:external': false,
    port_security_enabled: true,
    'provider:network_type': 'flat',
    'provider:physical_network': 'physnet1',
    'provider:segmentation_id': null,
  };
  const subnet: SubnetRecord = {
    ...std,
    id: 's4',
    name: '',
    network_id: 'calico-network-id',
    ip_version: 4,
    subnetpool_id: null,
    enable_dhcp: true,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    gateway_ip: '10.65.0.1',
    cidr: '10.65.0.0/24',
    allocation_pools: [{ start: '10.65.0.2', end: '10.65.0.254' }],
    host_routes: [],
    dns_nameservers: [],
    service_types: [],
  };
  const port: PortRecord = {
    ...std,
    id: 'DEADBEEF-1234-5678',
    name: '',
    network_id: 'calico-network-id',
    mac_address: '00:11:22:33:44:55',
    admin_state_up: true,
    status: 'DOWN',
    device_id: 'instance-1',
    device_owner: 'compute:nova',
    fixed_ips: [{ subnet_id: 's4', ip_address: '10.65.0.2' }],
    port_security_enabled: true,
    security_groups: ['SGID-default'],
    'binding:vnic_type': 'normal',
    'binding:profile': {},
    'binding:host_id': 'felix-host-1',
    'binding:vif_type': 'tap',
    'binding:vif_details': {},
    allowed_address_pairs: [{ ip_address: '23.23.23.2', mac_address: '00:11:22:33:44:55' }],
    extra_dhcp_opts: [],
  };

  it('matches the reference endpoint (without Keystone names and floating IPs, which Brindle does not have yet)', () => {
    const wep = portToEndpoint({ port, network, subnets: new Map([['s4', subnet]]), securityGroups: new Map([['SGID-default', sg]]), namespace: 'openstack' });
    assert.deepEqual(wep, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: 'felix--host--1-openstack-instance--1-DEADBEEF--1234--5678',
        namespace: 'openstack',
        annotations: { 'openstack.projectcalico.org/network-id': 'calico-network-id' },
        labels: {
          'sg.projectcalico.org/openstack-SGID-default': 'My_default_SG',
          'sg-name.projectcalico.org/openstack-My_default_SG': 'SGID-default',
          'projectcalico.org/namespace': 'openstack',
          'projectcalico.org/orchestrator': 'openstack',
          'projectcalico.org/openstack-project-id': 'jane3',
          'projectcalico.org/openstack-network-name': 'calico-network-name',
        },
      },
      spec: {
        orchestrator: 'openstack',
        workload: 'instance-1',
        node: 'felix-host-1',
        endpoint: 'DEADBEEF-1234-5678',
        interfaceName: 'tapDEADBEEF-12',
        mac: '00:11:22:33:44:55',
        ipNetworks: ['10.65.0.2/32', '23.23.23.2/32'],
        allowedIps: ['23.23.23.2/32'],
        ipv4Gateway: '10.65.0.1',
      },
    });
    validateResource(wep);
  });

  it('a port without port security carries no security group labels', () => {
    const wep = portToEndpoint({
      port: { ...port, port_security_enabled: false, security_groups: [] },
      network,
      subnets: new Map(),
      securityGroups: new Map(),
      namespace: 'openstack',
    });
    assert.equal(
      Object.keys(wep.metadata.labels ?? {}).some((k) => k.startsWith('sg')),
      false,
    );
  });

  it('only bound ports want an endpoint', () => {
    assert.equal(portWantsEndpoint(port), true);
    assert.equal(portWantsEndpoint({ ...port, 'binding:host_id': '' }), false);
    assert.equal(portWantsEndpoint({ ...port, 'binding:vif_type': 'binding_failed' }), false);
  });

  it('subnets become DHCP records only with DHCP on; DNS and IPv6 modes only when set', () => {
    assert.deepEqual(subnetToDhcp(subnet), { network_id: 'calico-network-id', cidr: '10.65.0.0/24', host_routes: [], gateway_ip: '10.65.0.1' });
    assert.equal(subnetToDhcp({ ...subnet, enable_dhcp: false }), undefined);
    assert.deepEqual(subnetToDhcp({ ...subnet, dns_nameservers: ['198.18.0.53'], ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }), {
      network_id: 'calico-network-id',
      cidr: '10.65.0.0/24',
      host_routes: [],
      gateway_ip: '10.65.0.1',
      dns_servers: ['198.18.0.53'],
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'slaac',
    });
  });
});
