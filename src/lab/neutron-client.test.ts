import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../datastore/testing/index.js';
import { LabApiError } from './errors.js';
import { NeutronClient } from './neutron-client.js';
import { startLabTestApi, type LabTestApi } from './testing/index.js';

describe('NeutronClient against a real `brindle api`', () => {
  let api: LabTestApi;
  let client: NeutronClient;

  before(async () => {
    api = await startLabTestApi();
    client = new NeutronClient({ url: `${api.url}/`, projectId: 'lab-test' });
  });
  after(async () => {
    await api?.stop();
  });

  it('creates a network, IPv4 and IPv6 subnets, a security group with rules, and deletes a rule', async () => {
    const net = await client.createNetwork({ name: 'lab-net' });
    assert.equal(net.name, 'lab-net');
    const v4 = await client.createSubnet({ network_id: net.id, cidr: '198.18.10.0/24', ip_version: 4, gateway_ip: '198.18.10.1', enable_dhcp: false });
    assert.deepEqual([v4.cidr, v4.gateway_ip, v4.ip_version, v4.network_id], ['198.18.10.0/24', '198.18.10.1', 4, net.id]);
    const v6 = await client.createSubnet({ network_id: net.id, cidr: '2001:db8:10::/64', ip_version: 6, enable_dhcp: false });
    assert.equal(v6.gateway_ip, '2001:db8:10::1');
    assert.deepEqual((await client.showSubnet(v4.id)).id, v4.id);

    const web = await client.createSecurityGroup({ name: 'web', description: 'web servers' });
    assert.equal(web.name, 'web');
    assert.equal(web.security_group_rules.filter((r) => r.direction === 'egress').length, 2);
    const ssh = await client.createSecurityGroupRule({
      security_group_id: web.id,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '198.18.0.0/15',
    });
    assert.deepEqual([ssh.protocol, ssh.port_range_min, ssh.port_range_max, ssh.remote_ip_prefix], ['tcp', 22, 22, '198.18.0.0/15']);
    const fromSelf = await client.createSecurityGroupRule({ security_group_id: web.id, direction: 'ingress', ethertype: 'IPv6', remote_group_id: web.id });
    assert.equal(fromSelf.remote_group_id, web.id);
    await client.deleteSecurityGroupRule(ssh.id);
    const after = await client.showSecurityGroup(web.id);
    assert.deepEqual(
      after.security_group_rules.map((r) => r.id).filter((id) => id === ssh.id || id === fromSelf.id),
      [fromSelf.id],
    );
  });

  it('creates, binds, shows and deletes a port as Nova does', async () => {
    const net = await client.createNetwork({ name: 'port-net' });
    const subnet = await client.createSubnet({ network_id: net.id, cidr: '198.18.11.0/24', ip_version: 4, gateway_ip: '198.18.11.1' });
    const sg = await client.createSecurityGroup({ name: 'ports' });
    const port = await client.createPort({
      network_id: net.id,
      fixed_ips: [{ subnet_id: subnet.id, ip_address: '198.18.11.20' }],
      security_groups: [sg.id],
      mac_address: 'fa:16:3e:11:22:33',
    });
    assert.deepEqual(port.fixed_ips, [{ subnet_id: subnet.id, ip_address: '198.18.11.20' }]);
    assert.equal(port.mac_address, 'fa:16:3e:11:22:33');
    assert.deepEqual(port.security_groups, [sg.id]);

    // No agent on the host: Neutron binds, as networking-calico does, `binding_failed`.
    const failed = await client.updatePort(port.id, {
      'binding:host_id': 'compute9',
      device_id: '5f1c8a52-1111-4222-8333-944444444444',
      device_owner: 'compute:nova',
    });
    assert.equal(failed['binding:vif_type'], 'binding_failed');
    await api.pretendAgentAlive('compute1');
    const bound = await client.updatePort(port.id, { 'binding:host_id': 'compute1' });
    assert.equal(bound['binding:vif_type'], 'tap');
    const shown = await client.showPort(port.id);
    assert.deepEqual([shown['binding:host_id'], shown.device_owner, shown.device_id], ['compute1', 'compute:nova', '5f1c8a52-1111-4222-8333-944444444444']);

    await client.deletePort(port.id);
    await assert.rejects(client.showPort(port.id), (err: unknown) => {
      assert.ok(err instanceof LabApiError);
      assert.deepEqual([err.httpStatus, err.neutronType, err.status], [404, 'PortNotFound', 404]);
      assert.match(err.message, /^Neutron API call failed: GET \/v2\.0\/ports\/.*: 404 PortNotFound: /);
      return true;
    });
  });

  it('carries Neutron fault types and statuses, and connection failures as status 0', async () => {
    const net = await client.createNetwork({ name: 'fault-net' });
    const subnet = await client.createSubnet({ network_id: net.id, cidr: '198.18.12.0/24', ip_version: 4 });
    await client.createPort({ network_id: net.id, fixed_ips: [{ subnet_id: subnet.id, ip_address: '198.18.12.5' }] });
    await assert.rejects(client.createPort({ network_id: net.id, fixed_ips: [{ subnet_id: subnet.id, ip_address: '198.18.12.5' }] }), {
      name: 'LabApiError',
      httpStatus: 409,
      neutronType: 'IpAddressAlreadyAllocated',
    });
    await assert.rejects(client.createSubnet({ network_id: net.id, cidr: '198.18.12.0/25', ip_version: 4 }), { httpStatus: 400, neutronType: 'InvalidInput' });
    const dead = new NeutronClient({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
    await assert.rejects(dead.createNetwork({}), { name: 'LabApiError', httpStatus: 0, neutronType: 'ConnectionFailed', status: 503, recoverable: true });
  });
});
