import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realFs } from '../../lib/index.js';
import { startTestApi, type TestApi } from '../testing/index.js';

const fs = realFs();

describe('Neutron API: bad input gets a 4xx fault and writes nothing', () => {
  let dir: string;
  let kv: KvStore;
  let t: TestApi;
  let net: string;
  let subnet: string;
  let sg: string;
  before(async () => {
    dir = await fs.makeTempDir('brindle-api-bad-');
    kv = await openDatastore({ kind: 'embedded', path: dir });
    t = await startTestApi(kv, { background: false });
    net = ((await t.call('POST', '/v2.0/networks', { network: { name: 'n' } })).body['network'] as { id: string }).id;
    subnet = ((await t.call('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '198.18.0.0/28' } })).body['subnet'] as { id: string })
      .id;
    sg = ((await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'v' } })).body['security_group'] as { id: string }).id;
  });
  after(async () => {
    await t?.close();
    await kv?.close();
    await fs.remove(dir);
  });

  // [method, path, body, status, fault type, message fragment]
  const cases: [string, string, () => unknown, number, string, string][] = [
    ['POST', '/v2.0/networks', () => '{"network": {"name": ', 400, 'HTTPBadRequest', 'Body contains invalid data'],
    ['POST', '/v2.0/networks', () => '[1, 2]', 400, 'HTTPBadRequest', 'Body contains invalid data'],
    ['POST', '/v2.0/networks', () => ({ net: {} }), 400, 'HTTPBadRequest', "Unable to find 'network' in request body"],
    ['POST', '/v2.0/networks', () => ({ network: { name: 'x', bogus: 1 } }), 400, 'HTTPBadRequest', "Unrecognized attribute(s) 'bogus'"],
    [
      'POST',
      '/v2.0/networks',
      () => ({ network: { admin_state_up: 'perhaps' } }),
      400,
      'HTTPBadRequest',
      "Invalid input for admin_state_up. Reason: 'perhaps' is not a valid boolean value.",
    ],
    ['POST', '/v2.0/networks', () => ({ network: { name: 7 } }), 400, 'HTTPBadRequest', 'Invalid input for name'],
    [
      'POST',
      '/v2.0/networks',
      () => ({ network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'p', 'provider:segmentation_id': 5 } }),
      400,
      'InvalidInput',
      'network type vlan is not supported: Calico networks are flat or local',
    ],
    ['POST', '/v2.0/networks', () => ({ network: { 'provider:network_type': 'vxlan' } }), 400, 'InvalidInput', 'overlays'],
    ['POST', '/v2.0/networks', () => ({ network: { 'provider:network_type': 'flat' } }), 400, 'InvalidInput', 'provider:physical_network is required'],
    ['POST', '/v2.0/networks', () => ({ network: { name: 'x'.repeat(256) } }), 400, 'HTTPBadRequest', 'exceeds maximum length of 255'],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: net, ip_version: 4, cidr: '198.18.0.0/33' } }),
      400,
      'HTTPBadRequest',
      "'198.18.0.0/33' is not a valid IP subnet",
    ],
    ['POST', '/v2.0/subnets', () => ({ subnet: { network_id: net, ip_version: 4, cidr: 'banana' } }), 400, 'HTTPBadRequest', 'is not a valid IP subnet'],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: net, cidr: '198.19.0.0/24' } }),
      400,
      'HTTPBadRequest',
      "Required attribute 'ip_version' not specified",
    ],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: net, ip_version: 6, cidr: '198.19.0.0/24' } }),
      400,
      'InvalidInput',
      'does not match ip_version 6',
    ],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: net, ip_version: 4, cidr: '198.18.0.8/29' } }),
      400,
      'InvalidInput',
      'overlaps with another subnet',
    ],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: net, ip_version: 4, cidr: '198.19.0.0/24', gateway_ip: '198.19.0.255' } }),
      400,
      'InvalidInput',
      'is the network or broadcast address',
    ],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: net, ip_version: 4, cidr: '198.19.0.0/24', dns_nameservers: ['1.2.3.999'] } }),
      400,
      'HTTPBadRequest',
      "'1.2.3.999' is not a valid IP address",
    ],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: '00000000-0000-0000-0000-000000000000', ip_version: 4, cidr: '198.19.0.0/24' } }),
      404,
      'NetworkNotFound',
      'could not be found',
    ],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: net, ip_version: 4, cidr: '198.19.0.0/24', allocation_pools: [{ start: '198.19.0.50', end: '198.19.0.10' }] } }),
      400,
      'InvalidAllocationPool',
      '',
    ],
    ['POST', '/v2.0/ports', () => ({ port: { network_id: net, fixed_ips: [{ ip_address: '198.19.5.5' }] } }), 400, 'InvalidIpForNetwork', '198.19.5.5'],
    [
      'POST',
      '/v2.0/ports',
      () => ({ port: { network_id: net, fixed_ips: [{ ip_address: 'not-an-ip' }] } }),
      400,
      'HTTPBadRequest',
      "'not-an-ip' is not a valid IP address",
    ],
    ['POST', '/v2.0/ports', () => ({ port: { network_id: net, mac_address: 'zz:zz' } }), 400, 'HTTPBadRequest', 'is not a valid MAC address'],
    ['POST', '/v2.0/ports', () => ({ port: { network_id: 'nope' } }), 400, 'HTTPBadRequest', "'nope' is not a valid UUID"],
    ['POST', '/v2.0/ports', () => ({ port: { network_id: net, security_groups: ['00000000-0000-0000-0000-000000000001'] } }), 404, 'SecurityGroupNotFound', ''],
    [
      'POST',
      '/v2.0/ports',
      () => ({ port: { network_id: net, port_security_enabled: false, allowed_address_pairs: [{ ip_address: '198.18.0.9' }] } }),
      409,
      'AddressPairAndPortSecurityRequired',
      '',
    ],
    [
      'POST',
      '/v2.0/security-group-rules',
      () => ({ security_group_rule: { direction: 'sideways', security_group_id: net } }),
      400,
      'HTTPBadRequest',
      'Invalid input for direction',
    ],
    [
      'POST',
      '/v2.0/security-group-rules',
      () => ({ security_group_rule: { security_group_id: '__SG__', direction: 'ingress', protocol: 'tcp', port_range_min: 22 } }),
      400,
      'SecurityGroupInvalidPortRange',
      'port_range_min must be <= port_range_max',
    ],
    [
      'POST',
      '/v2.0/security-group-rules',
      () => ({ security_group_rule: { security_group_id: '__SG__', direction: 'ingress', protocol: 'tcp', port_range_min: 0, port_range_max: 10 } }),
      400,
      'SecurityGroupInvalidPortValue',
      'Invalid value for port 0',
    ],
    [
      'POST',
      '/v2.0/security-group-rules',
      () => ({ security_group_rule: { security_group_id: '__SG__', direction: 'ingress', protocol: 'icmp', port_range_max: 3 } }),
      400,
      'SecurityGroupMissingIcmpType',
      'ICMP code (port-range-max) 3',
    ],
    [
      'POST',
      '/v2.0/security-group-rules',
      () => ({ security_group_rule: { security_group_id: '__SG__', direction: 'ingress', protocol: 'gre', port_range_min: 1, port_range_max: 2 } }),
      400,
      'SecurityGroupInvalidProtocolForPort',
      'Invalid protocol gre for port range',
    ],
    [
      'POST',
      '/v2.0/security-group-rules',
      () => ({ security_group_rule: { security_group_id: '__SG__', direction: 'ingress', port_range_min: 1, port_range_max: 2 } }),
      400,
      'SecurityGroupProtocolRequiredWithPorts',
      '',
    ],
    [
      'POST',
      '/v2.0/security-group-rules',
      () => ({ security_group_rule: { security_group_id: '__SG__', direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '198.18.0.0/16' } }),
      400,
      'SecurityGroupRuleParameterConflict',
      '',
    ],
    ['PUT', '/v2.0/security-groups/__SG__', () => ({ security_group: { name: 'default' } }), 409, 'SecurityGroupCannotUpdateDefault', ''],
    [
      'POST',
      '/v2.0/subnets',
      () => ({ subnet: { network_id: net, ip_version: 6, cidr: '2001:db8:77::/80', ipv6_address_mode: 'slaac' } }),
      400,
      'InvalidInput',
      'requires the prefix to be /64',
    ],
    ['GET', '/v2.0/ports?marker=nope&limit=1', () => undefined, 400, 'HTTPBadRequest', 'Invalid marker'],
    ['PUT', '/v2.0/networks/__NET__', () => ({ network: { id: 'x' } }), 400, 'HTTPBadRequest', 'Cannot update read-only attribute id'],
    ['PUT', '/v2.0/networks/__NET__', () => ({ network: { bogus: 'x' } }), 400, 'HTTPBadRequest', "Unrecognized attribute(s) 'bogus'"],
    ['POST', '/v2.0/networks', () => ({ network: { status: 'ACTIVE' } }), 400, 'HTTPBadRequest', "Attribute 'status' not allowed in POST"],
    [
      'PUT',
      '/v2.0/networks/__NET__',
      () => ({ network: { 'provider:network_type': 'flat' } }),
      400,
      'HTTPBadRequest',
      'Cannot update read-only attribute provider:network_type',
    ],
    ['PUT', '/v2.0/subnets/__SUBNET__', () => ({ subnet: { cidr: '198.18.1.0/24' } }), 400, 'HTTPBadRequest', 'Cannot update read-only attribute cidr'],
    ['GET', '/v2.0/networks?bogus=1', () => undefined, 400, 'HTTPBadRequest', "['bogus'] is invalid attribute for filtering"],
    ['GET', '/v2.0/networks?sort_key=name', () => undefined, 400, 'HTTPBadRequest', 'The number of sort_keys and sort_dirs must be same'],
    ['GET', '/v2.0/networks?limit=-3', () => undefined, 400, 'HTTPBadRequest', 'Limit must be an integer'],
    ['GET', '/v2.0/networks/no-such-network', () => undefined, 404, 'NetworkNotFound', ''],
    ['GET', '/v2.0/routers/no-such-router', () => undefined, 404, 'RouterNotFound', 'Router no-such-router could not be found.'],
    [
      'POST',
      '/v2.0/routers',
      () => ({ router: { external_gateway_info: { network_id: 'x' } } }),
      400,
      'HTTPBadRequest',
      "Invalid input for external_gateway_info. Reason: 'x' is not a valid UUID",
    ],
    ['GET', '/v2.0/floatingips/no-such-fip', () => undefined, 404, 'FloatingIPNotFound', 'Floating IP no-such-fip could not be found.'],
    [
      'POST',
      '/v2.0/floatingips',
      () => ({ floatingip: { port_id: '__NET__' } }),
      400,
      'HTTPBadRequest',
      "Required attribute 'floating_network_id' not specified",
    ],
    ['GET', '/v2.0', () => undefined, 404, 'HTTPNotFound', ''],
    ['DELETE', '/v2.0/ports/0e0e0e0e-0000-0000-0000-000000000000', () => undefined, 404, 'PortNotFound', ''],
  ];

  for (const [method, path, body, status, type, fragment] of cases) {
    it(`${method} ${path.replace(/__\w+__/, 'X')} ${JSON.stringify(body() ?? '').slice(0, 70)} → ${status} ${type}`, async () => {
      const before = await kv.revision();
      const fill = (x: string): string => x.replace('__NET__', net).replace('__SUBNET__', subnet).replace('__SG__', sg);
      const raw = body();
      const r = await t.call(method, fill(path), raw === undefined ? undefined : JSON.parse(fill(JSON.stringify(raw))));
      assert.equal(r.status, status, JSON.stringify(r.body));
      const fault = r.body['NeutronError'] as { type: string; message: string; detail: string };
      assert.equal(fault.type, type);
      assert.ok(fault.message.includes(fragment), `${fault.message} should include ${fragment}`);
      assert.equal(fault.detail, '', 'detail is always present (neutronclient reads it)');
      assert.equal(await kv.revision(), before, 'the datastore is unchanged');
    });
  }

  it('an oversized body is 413, not a crash', async () => {
    const before = await kv.revision();
    const r = await t.call('POST', '/v2.0/networks', { network: { name: 'x', description: 'y'.repeat(2_000_000) } });
    assert.equal(r.status, 413);
    assert.equal((r.body['NeutronError'] as { type: string }).type, 'HTTPRequestEntityTooLarge');
    assert.equal(await kv.revision(), before);
  });

  it('a bulk create with one bad item creates none', async () => {
    const count = async () => ((await t.call('GET', '/v2.0/networks')).body['networks'] as unknown[]).length;
    const n = await count();
    const r = await t.call('POST', '/v2.0/networks', { networks: [{ name: 'ok-1' }, { name: 'ok-2' }, { 'provider:network_type': 'vlan' }] });
    assert.equal(r.status, 400);
    assert.equal(await count(), n);
    const good = await t.call('POST', '/v2.0/networks', { networks: [{ name: 'ok-1' }, { name: 'ok-2' }] });
    assert.equal(good.status, 201);
    assert.equal((good.body['networks'] as unknown[]).length, 2);
  });
});

describe('noauth exposure', () => {
  it('refuses to serve without authentication on a non-loopback address unless told to', async () => {
    const dir = await fs.makeTempDir('brindle-api-exposed-');
    const kv = await openDatastore({ kind: 'embedded', path: dir });
    try {
      await assert.rejects(
        startTestApi(kv, { listen: { host: '0.0.0.0', port: 0 }, background: false }),
        /Refusing to serve without authentication on 0\.0\.0\.0/,
      );
    } finally {
      await kv.close();
      await fs.remove(dir);
    }
  });
});
