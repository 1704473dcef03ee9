import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realFs } from '../../lib/index.js';
import { recordingLogger } from '../../lib/testing.js';
import { felixEndpointStatusKey } from '../../model/index.js';
import { eventually, fakeAgentAlive, startTestApi, type TestApi } from '../testing/index.js';

const fs = realFs();
type Json = Record<string, unknown>;
const VM1 = '11111111-2222-4333-8444-555555555551';
const VM2 = '11111111-2222-4333-8444-555555555552';

describe('Neutron API: races and update semantics', () => {
  let dir: string;
  let kv: KvStore;
  let t: TestApi;
  let net: string;
  let sub: string;
  const log = recordingLogger();
  /** Whether the server has looked at a status report for `port` from `host`/`workload` and ignored it. */
  const ignored = (port: string, host: string, workload: string): boolean =>
    log.lines.some(
      (l) =>
        l.msg === "port status report ignored: not from the port's host and instance" && l['port'] === port && l['host'] === host && l['workload'] === workload,
    );
  before(async () => {
    dir = await fs.makeTempDir('brindle-races-');
    kv = await openDatastore({ kind: 'embedded', path: dir });
    t = await startTestApi(kv, { logger: log.logger });
    net = ((await t.call('POST', '/v2.0/networks', { network: { name: 'r' } })).body['network'] as Json)['id'] as string;
    sub = ((await t.call('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '198.18.70.0/24' } })).body['subnet'] as Json)[
      'id'
    ] as string;
  });
  after(async () => {
    await t?.close();
    await kv?.close();
    await fs.remove(dir);
  });

  it('a security group deleted while ports are being given it: no port is left pointing at a missing group', async () => {
    for (let round = 0; round < 5; round++) {
      const sg = ((await t.call('POST', '/v2.0/security-groups', { security_group: { name: `race-${round}` } })).body['security_group'] as Json)[
        'id'
      ] as string;
      const creates = Array.from({ length: 15 }, () => t.call('POST', '/v2.0/ports', { port: { network_id: net, security_groups: [sg] } }));
      const del = t.call('DELETE', `/v2.0/security-groups/${sg}`);
      const results = await Promise.all([...creates, del]);
      for (const r of results) assert.ok([201, 204, 404, 409].includes(r.status), JSON.stringify(r.body));
      const groups = new Set(((await t.call('GET', '/v2.0/security-groups')).body['security_groups'] as Json[]).map((g) => g['id']));
      const ports = (await t.call('GET', '/v2.0/ports')).body['ports'] as Json[];
      for (const p of ports)
        for (const g of p['security_groups'] as string[]) assert.ok(groups.has(g), `port ${p['id'] as string} points at deleted group ${g}`);
      for (const p of ports) await t.call('DELETE', `/v2.0/ports/${p['id'] as string}`);
      await t.call('DELETE', `/v2.0/security-groups/${sg}`);
    }
  });

  it('identical rules created at once: one wins, the rest are SecurityGroupRuleExists; the group revision counts rule changes', async () => {
    const sgBody = (await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'dups' } })).body['security_group'] as Json;
    const sg = sgBody['id'] as string;
    const rule = { security_group_rule: { security_group_id: sg, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 } };
    const results = await Promise.all(Array.from({ length: 10 }, () => t.call('POST', '/v2.0/security-group-rules', rule)));
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    for (const r of results.filter((x) => x.status !== 201)) assert.equal((r.body['NeutronError'] as Json)['type'], 'SecurityGroupRuleExists');
    const after = (await t.call('GET', `/v2.0/security-groups/${sg}`)).body['security_group'] as Json;
    assert.equal(after['revision_number'], (sgBody['revision_number'] as number) + 1);
  });

  it("a group going away takes other groups' rules that name it as remote group", async () => {
    const a = ((await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'a' } })).body['security_group'] as Json)['id'] as string;
    const b = ((await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'b' } })).body['security_group'] as Json)['id'] as string;
    await t.call('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: b, direction: 'ingress', remote_group_id: a } });
    assert.equal((await t.call('DELETE', `/v2.0/security-groups/${a}`)).status, 204);
    const rules = (await t.call('GET', `/v2.0/security-group-rules?security_group_id=${b}`)).body['security_group_rules'] as Json[];
    assert.equal(
      rules.some((r) => r['remote_group_id'] === a),
      false,
    );
    const policy = JSON.parse((await kv.get(`/calico/resources/v3/projectcalico.org/networkpolicies/openstack/ossg.default.${b}`))?.value ?? '{}') as {
      spec: { ingress: unknown[] };
    };
    assert.deepEqual(policy.spec.ingress, [], "b's policy no longer selects a");
  });

  it("status counts only when it comes from the port's own host and instance", async () => {
    await fakeAgentAlive(kv, 'h1');
    const port = (
      (await t.call('POST', '/v2.0/ports', { port: { network_id: net, device_owner: 'compute:nova', device_id: VM1, 'binding:host_id': 'h1' } })).body[
        'port'
      ] as Json
    )['id'] as string;
    const status = async (): Promise<unknown> => ((await t.call('GET', `/v2.0/ports/${port}`)).body['port'] as Json)['status'];
    await kv.put(felixEndpointStatusKey('no-region', { host: 'other-host', workload: VM1, endpoint: port }), '{"status":"up"}');
    await kv.put(felixEndpointStatusKey('no-region', { host: 'h1', workload: VM2, endpoint: port }), '{"status":"up"}');
    // The fact, not a time: the server looked at the last of them and ignored it.
    await eventually(() => ignored(port, 'h1', VM2));
    assert.equal(await status(), 'DOWN', 'reports about another host or instance are ignored');
    await kv.put(felixEndpointStatusKey('no-region', { host: 'h1', workload: VM1, endpoint: port }), '{"status":"up"}');
    await eventually(async () => (await status()) === 'ACTIVE');
    // The port moves to VM2 on the same host; VM1's endpoint status going away must not make it ERROR.
    await t.call('PUT', `/v2.0/ports/${port}`, { port: { device_id: VM2 } });
    await kv.delete(felixEndpointStatusKey('no-region', { host: 'h1', workload: VM1, endpoint: port }));
    await eventually(() => ignored(port, 'h1', VM1));
    assert.notEqual(await status(), 'ERROR');
    await kv.delete(felixEndpointStatusKey('no-region', { host: 'other-host', workload: VM1, endpoint: port }));
    await kv.delete(felixEndpointStatusKey('no-region', { host: 'h1', workload: VM2, endpoint: port }));
    await eventually(async () => (await status()) === 'ERROR', 5_000);
    await t.call('DELETE', `/v2.0/ports/${port}`);
  });

  it('sending the same host again does not re-bind (no flip to binding_failed while the agent blinks)', async () => {
    const agent = await fakeAgentAlive(kv, 'h2');
    const port = (
      (await t.call('POST', '/v2.0/ports', { port: { network_id: net, device_owner: 'compute:nova', device_id: VM1, 'binding:host_id': 'h2' } })).body[
        'port'
      ] as Json
    )['id'] as string;
    await kv.revokeLease(agent.lease);
    const again = (await t.call('PUT', `/v2.0/ports/${port}`, { port: { 'binding:host_id': 'h2', device_owner: 'compute:nova' } })).body['port'] as Json;
    assert.equal(again['binding:vif_type'], 'tap');
    await t.call('DELETE', `/v2.0/ports/${port}`);
  });

  it('fixed_ips updates keep what they can: an existing address on a subnet-only entry', async () => {
    const p = (await t.call('POST', '/v2.0/ports', { port: { network_id: net } })).body['port'] as Json;
    const ip = (p['fixed_ips'] as Json[])[0]?.['ip_address'] as string;
    const kept = (await t.call('PUT', `/v2.0/ports/${p['id'] as string}`, { port: { fixed_ips: [{ subnet_id: sub }] } })).body['port'] as Json;
    assert.deepEqual(kept['fixed_ips'], [{ subnet_id: sub, ip_address: ip }]);
    const two = (await t.call('PUT', `/v2.0/ports/${p['id'] as string}`, { port: { fixed_ips: [{ subnet_id: sub }, { subnet_id: sub }] } })).body[
      'port'
    ] as Json;
    const addrs = (two['fixed_ips'] as Json[]).map((f) => f['ip_address']);
    assert.equal(addrs[0], ip);
    assert.equal(new Set(addrs).size, 2, 'the second address is a new one, never the one the port holds');
    await t.call('DELETE', `/v2.0/ports/${p['id'] as string}`);
  });

  it('If-Match applies to DELETE too', async () => {
    const p = (await t.call('POST', '/v2.0/ports', { port: { network_id: net } })).body['port'] as Json;
    const stale = await t.call('DELETE', `/v2.0/ports/${p['id'] as string}`, undefined, { 'If-Match': 'revision_number=99' });
    assert.equal(stale.status, 412);
    assert.equal(
      (await t.call('DELETE', `/v2.0/ports/${p['id'] as string}`, undefined, { 'If-Match': `revision_number=${p['revision_number'] as number}` })).status,
      204,
    );
  });
});
