import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NeutronApiError } from '../errors.js';
import { NETWORK, parseCreate, parseUpdate, PORT, SECURITY_GROUP_RULE, SUBNET } from './index.js';

/** The fault a parse throws: [type, message]. */
function fault(f: () => unknown): [string, string] {
  try {
    f();
  } catch (err) {
    if (err instanceof NeutronApiError) return [err.type, err.message];
    throw err;
  }
  throw new Error('no fault');
}

describe('resource declarations (pure)', () => {
  it('a create gets the declared defaults and converted values; an update only what was sent', () => {
    const { items, bulk } = parseCreate({ network: { name: 'n', admin_state_up: 'False' } }, NETWORK);
    assert.equal(bulk, false);
    assert.deepEqual(items[0], { description: '', name: 'n', admin_state_up: false, shared: false, port_security_enabled: true, 'router:external': false });
    assert.deepEqual(parseUpdate({ network: { mtu: '1400' } }, NETWORK), { mtu: 1400 });
    const port = parseCreate({ ports: [{ network_id: '6b1f0f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b', mac_address: 'FA-16-3E-00-00-01' }] }, PORT);
    assert.equal(port.bulk, true);
    assert.equal(port.items[0]?.mac_address, 'fa:16:3e:00:00:01');
    assert.equal(port.items[0]?.['binding:vnic_type'], 'normal');
    assert.equal(port.items[0]?.port_security_enabled, undefined, 'no default: the network decides');
    const rule = parseCreate(
      { security_group_rule: { security_group_id: '6b1f0f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b', direction: 'ingress', protocol: 6 } },
      SECURITY_GROUP_RULE,
    );
    assert.equal(rule.items[0]?.protocol, '6', 'protocol numbers kept as strings');
    assert.equal(rule.items[0]?.ethertype, 'IPv4');
  });

  it("refuses with neutron-server's faults and messages", () => {
    assert.deepEqual(
      fault(() => parseCreate({ network: { admin_state_up: 'perhaps' } }, NETWORK)),
      ['HTTPBadRequest', "Invalid input for admin_state_up. Reason: 'perhaps' is not a valid boolean value."],
    );
    assert.deepEqual(
      fault(() => parseCreate({ subnet: { network_id: '6b1f0f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b' } }, SUBNET)),
      ['HTTPBadRequest', "Failed to parse request. Required attribute 'ip_version' not specified"],
    );
    assert.deepEqual(
      fault(() => parseCreate({ subnet: { network_id: 'x', ip_version: 5 } }, SUBNET))[1],
      "Invalid input for network_id. Reason: 'x' is not a valid UUID.",
    );
    assert.deepEqual(
      fault(() => parseCreate({ subnet: { network_id: '6b1f0f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b', ip_version: 5 } }, SUBNET))[1],
      'Invalid input for ip_version. Reason: 5 is not in [4, 6].',
    );
    assert.deepEqual(
      fault(() =>
        parseCreate({ subnet: { network_id: '6b1f0f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b', ip_version: 4, allocation_pools: [{ start: '198.18.0.2' }] } }, SUBNET),
      )[1],
      "Invalid input for allocation_pools. Reason: Validation of dictionary's keys failed. Expected keys: {'end'}.",
    );
    assert.deepEqual(
      fault(() =>
        parseCreate(
          { security_group_rule: { security_group_id: '6b1f0f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b', direction: 'ingress', port_range_min: 70000 } },
          SECURITY_GROUP_RULE,
        ),
      ),
      ['SecurityGroupInvalidPortValue', 'Invalid value for port 70000'],
    );
    assert.deepEqual(fault(() => parseCreate({ network: { x: 1, y: 2 } }, NETWORK))[1], "Unrecognized attribute(s) 'x, y'");
    assert.deepEqual(fault(() => parseCreate({ network: { status: 'UP' } }, NETWORK))[1], "Attribute 'status' not allowed in POST");
    assert.deepEqual(fault(() => parseUpdate({ subnet: { cidr: '198.18.0.0/24' } }, SUBNET))[1], 'Cannot update read-only attribute cidr');
    assert.deepEqual(fault(() => parseCreate({ networks: [] }, NETWORK))[1], 'Resources required');
    assert.deepEqual(fault(() => parseCreate({ network: { project_id: 'a', tenant_id: 'b' } }, NETWORK))[1], "'project_id' and 'tenant_id' do not match");
    assert.deepEqual(fault(() => parseCreate({ port: {}, extra: 1 }, PORT))[1], 'Body contains invalid data');
  });
});
