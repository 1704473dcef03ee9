// The real `openstack` CLI (Debian python3-openstackclient) against a real `brindle api`, with
// the JSON the CLI prints and the datastore checked after each step.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../datastore/index.js';
import { realExec, realFs } from '../lib/index.js';
import { dhcpSubnetKey, resourceKey } from '../model/index.js';
import { fakeAgentAlive, startTestApi, type TestApi } from './testing/index.js';

const fs = realFs();
type Json = Record<string, unknown>;
const VM = '0b9d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4';

describe('the openstack CLI against brindle api', () => {
  let dir: string;
  let kv: KvStore;
  let t: TestApi;
  const ids: Record<string, string> = {};

  async function os(args: string[], expectOk = true): Promise<{ code: number | null; out: Json; stderr: string }> {
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' };
    const r = await realExec().run('/usr/bin/openstack', ['--os-auth-type', 'none', '--os-endpoint', t.url, ...args], { env, timeoutMs: 60_000 });
    if (expectOk) assert.equal(r.code, 0, `openstack ${args.join(' ')}: ${r.stderr}`);
    let out: Json = {};
    if (r.code === 0 && args.includes('json')) out = JSON.parse(r.stdout) as Json;
    return { code: r.code, out, stderr: r.stderr };
  }
  const get = async (key: string): Promise<Json | undefined> => {
    const v = await kv.get(key);
    return v === undefined ? undefined : (JSON.parse(v.value) as Json);
  };
  const policy = (sg: string): Promise<Json | undefined> => get(resourceKey({ kind: 'NetworkPolicy', namespace: 'openstack', name: `ossg.default.${sg}` }));

  before(async () => {
    dir = await fs.makeTempDir('brindle-osc-');
    kv = await openDatastore({ kind: 'embedded', path: `${dir}/store` });
    t = await startTestApi(kv);
  });
  after(async () => {
    await t?.close();
    await kv?.close();
    await fs.remove(dir);
  });

  it('network create (flat provider network), show by name, set, list', async () => {
    const { out } = await os([
      'network',
      'create',
      '--provider-network-type',
      'flat',
      '--provider-physical-network',
      'physnet1',
      '--share',
      'net1',
      '-f',
      'json',
    ]);
    assert.equal(out['name'], 'net1');
    assert.equal(out['provider:network_type'], 'flat');
    assert.equal(out['provider:physical_network'], 'physnet1');
    assert.equal(out['shared'], true);
    assert.equal(out['status'], 'ACTIVE');
    assert.equal(out['mtu'], 1500);
    ids['net'] = out['id'] as string;
    assert.equal((await get(`/brindle/neutron/v1/networks/${ids['net']}`))?.['name'], 'net1');
    await os(['network', 'set', '--description', 'hello', 'net1']);
    assert.equal((await os(['network', 'show', 'net1', '-f', 'json'])).out['description'], 'hello');
    const bad = await os(['network', 'create', '--provider-network-type', 'vxlan', 'overlay'], false);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Calico networks are flat or local/);
  });

  it('subnet create (IPv4 and IPv6 SLAAC), DHCP records, overlap refused', async () => {
    const v4 = await os([
      'subnet',
      'create',
      '--network',
      'net1',
      '--subnet-range',
      '198.18.40.0/24',
      '--dns-nameserver',
      '198.18.40.53',
      'sub4',
      '-f',
      'json',
    ]);
    assert.equal(v4.out['gateway_ip'], '198.18.40.1');
    assert.deepEqual(v4.out['allocation_pools'], [{ start: '198.18.40.2', end: '198.18.40.254' }]);
    ids['sub4'] = v4.out['id'] as string;
    const v6 = await os([
      'subnet',
      'create',
      '--network',
      'net1',
      '--ip-version',
      '6',
      '--subnet-range',
      '2001:db8:40::/64',
      '--ipv6-ra-mode',
      'slaac',
      '--ipv6-address-mode',
      'slaac',
      'sub6',
      '-f',
      'json',
    ]);
    assert.equal(v6.out['ipv6_address_mode'], 'slaac');
    ids['sub6'] = v6.out['id'] as string;
    assert.deepEqual(await get(dhcpSubnetKey('no-region', ids['sub4'])), {
      network_id: ids['net'],
      cidr: '198.18.40.0/24',
      host_routes: [],
      gateway_ip: '198.18.40.1',
      dns_servers: ['198.18.40.53'],
    });
    assert.equal((await get(dhcpSubnetKey('no-region', ids['sub6'])))?.['ipv6_address_mode'], 'slaac');
    const overlap = await os(['subnet', 'create', '--network', 'net1', '--subnet-range', '198.18.40.128/25', 'sub-overlap'], false);
    assert.notEqual(overlap.code, 0);
    assert.match(overlap.stderr, /overlaps with another subnet/);
    await os(['subnet', 'set', '--dns-nameserver', '198.18.40.54', 'sub4']);
    assert.deepEqual(
      (await get(dhcpSubnetKey('no-region', ids['sub4'])))?.['dns_servers'],
      ['198.18.40.54', '198.18.40.53'],
      'the CLI puts the new server first',
    );
  });

  it('security group and rules in every protocol form become the policy networking-calico writes', async () => {
    const sg = await os(['security', 'group', 'create', 'web', '--description', 'web tier', '-f', 'json']);
    ids['web'] = sg.out['id'] as string;
    const rules: string[][] = [
      ['--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '198.18.0.0/16'],
      ['--protocol', 'udp', '--dst-port', '53:54'],
      ['--protocol', 'icmp', '--icmp-type', '8', '--icmp-code', '0'],
      ['--ethertype', 'IPv6', '--protocol', 'ipv6-icmp'],
      ['--protocol', '47'],
      ['--protocol', 'tcp', '--dst-port', '443', '--remote-group', 'web'],
      ['--egress', '--protocol', 'tcp', '--dst-port', '5432', '--remote-ip', '198.19.0.0/24'],
    ];
    for (const r of rules) await os(['security', 'group', 'rule', 'create', ...r, 'web', '-f', 'json']);
    const sel = `has(sg.projectcalico.org/openstack-${ids['web']})`;
    assert.deepEqual((await policy(ids['web']))?.['spec'], {
      selector: sel,
      ingress: [
        { action: 'Allow', ipVersion: 4, protocol: 6, source: { nets: ['198.18.0.0/16'] }, destination: { ports: [22] } },
        // The CLI sends remote_ip_prefix 0.0.0.0/0 (::/0) when no remote is given.
        { action: 'Allow', ipVersion: 4, protocol: 17, source: { nets: ['0.0.0.0/0'] }, destination: { ports: ['53:54'] } },
        { action: 'Allow', ipVersion: 4, protocol: 'ICMP', icmp: { type: 8, code: 0 }, source: { nets: ['0.0.0.0/0'] } },
        { action: 'Allow', ipVersion: 6, protocol: 'ICMPv6', source: { nets: ['::/0'] } },
        { action: 'Allow', ipVersion: 4, protocol: 47, source: { nets: ['0.0.0.0/0'] } },
        { action: 'Allow', ipVersion: 4, protocol: 6, source: { selector: sel }, destination: { ports: [443] } },
      ],
      egress: [
        { action: 'Allow', ipVersion: 4 },
        { action: 'Allow', ipVersion: 6 },
        { action: 'Allow', ipVersion: 4, protocol: 6, destination: { nets: ['198.19.0.0/24'], ports: [5432] } },
      ],
    });
    const list = await os(['security', 'group', 'rule', 'list', 'web', '--protocol', 'tcp', '-f', 'json']);
    assert.equal((list.out as unknown as Json[]).length, 3);
  });

  it('ports: default addresses (random IPv4 + SLAAC IPv6), a fixed IP, address pairs, no port security', async () => {
    const p1 = await os(['port', 'create', '--network', 'net1', 'p1', '-f', 'json']);
    const ips = p1.out['fixed_ips'] as { ip_address: string; subnet_id: string }[];
    assert.equal(ips.length, 2);
    assert.match(ips[0]?.ip_address ?? '', /^198\.18\.40\.\d+$/);
    const mac = (p1.out['mac_address'] as string).split(':').map((b) => Number.parseInt(b, 16));
    const eui = `2001:db8:40:0:${(((mac[0] ?? 0) ^ 2) * 256 + (mac[1] ?? 0)).toString(16)}:${((mac[2] ?? 0) * 256 + 0xff).toString(16)}:fe${(mac[3] ?? 0).toString(16).padStart(2, '0')}:${((mac[4] ?? 0) * 256 + (mac[5] ?? 0)).toString(16)}`;
    assert.equal(ips[1]?.ip_address, eui, 'SLAAC address from the MAC');
    assert.equal(p1.out['status'], 'DOWN');
    assert.equal(p1.out['binding_vif_type'], 'unbound');
    assert.match(p1.out['mac_address'] as string, /^fa:16:3e:/);
    const p2 = await os([
      'port',
      'create',
      '--network',
      'net1',
      '--fixed-ip',
      'subnet=sub4,ip-address=198.18.40.77',
      '--security-group',
      'web',
      '--allowed-address',
      'ip-address=198.18.40.200',
      'p2',
      '-f',
      'json',
    ]);
    assert.deepEqual(p2.out['fixed_ips'], [{ subnet_id: ids['sub4'], ip_address: '198.18.40.77' }]);
    assert.deepEqual(p2.out['security_group_ids'], [ids['web']]);
    assert.deepEqual(p2.out['allowed_address_pairs'], [{ ip_address: '198.18.40.200', mac_address: p2.out['mac_address'] }]);
    ids['p2'] = p2.out['id'] as string;
    const dup = await os(['port', 'create', '--network', 'net1', '--fixed-ip', 'ip-address=198.18.40.77', 'p-dup'], false);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /IP address 198\.18\.40\.77 already allocated/);
    const p3 = await os(['port', 'create', '--network', 'net1', '--no-security-group', '--disable-port-security', 'p3', '-f', 'json']);
    assert.equal(p3.out['port_security_enabled'], false);
    assert.deepEqual(p3.out['security_group_ids'], []);
    assert.equal(
      (await os(['port', 'list', '--network', 'net1', '-f', 'json'])).out && ((await os(['port', 'list', '-f', 'json'])).out as unknown as Json[]).length,
      3,
    );
  });

  it('binding a port to a host with a live agent writes its WorkloadEndpoint; deleting removes it', async () => {
    await fakeAgentAlive(kv, 'compute-1');
    const bound = await os(['port', 'set', '--host', 'compute-1', '--device', VM, '--device-owner', 'compute:nova', 'p2']);
    assert.equal(bound.code, 0);
    const show = await os(['port', 'show', 'p2', '-f', 'json']);
    assert.equal(show.out['binding_vif_type'], 'tap');
    assert.equal(show.out['binding_host_id'], 'compute-1');
    const esc = (s: string) => s.replaceAll('-', '--');
    const key = resourceKey({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: `compute--1-openstack-${esc(VM)}-${esc(ids['p2'] ?? '')}` });
    const wep = await get(key);
    assert.deepEqual((wep?.['spec'] as Json)['ipNetworks'], ['198.18.40.77/32', '198.18.40.200/32']);
    assert.equal(((wep?.['metadata'] as Json)['labels'] as Json)[`sg.projectcalico.org/openstack-${ids['web']}`], 'web');
    const noAgent = await os(['port', 'set', '--host', 'compute-9', 'p1']);
    assert.equal(noAgent.code, 0);
    assert.equal((await os(['port', 'show', 'p1', '-f', 'json'])).out['binding_vif_type'], 'binding_failed');
    assert.equal(
      (await os(['network', 'agent', 'list', '-f', 'json'])).out &&
        ((await os(['network', 'agent', 'list', '-f', 'json'])).out as unknown as Json[])[0]?.['Host'],
      'compute-1',
    );
    await os(['port', 'delete', 'p2']);
    assert.equal(await kv.get(key), undefined);
  });

  it('routers and floating IPs: gateway, interface, allocate, associate (ipNATs), disassociate, release', async () => {
    await fakeAgentAlive(kv, 'compute-1');
    await os(['network', 'create', '--external', 'ext', '-f', 'json']);
    await os(['subnet', 'create', '--network', 'ext', '--subnet-range', '198.19.40.0/28', '--no-dhcp', 'ext-sub', '-f', 'json']);
    const router = (await os(['router', 'create', 'r1', '-f', 'json'])).out;
    await os(['router', 'set', '--external-gateway', 'ext', 'r1']);
    await os(['router', 'add', 'subnet', 'r1', 'sub4']);
    const shown = (await os(['router', 'show', 'r1', '-f', 'json'])).out;
    assert.equal((shown['external_gateway_info'] as Json)['network_id'], (await os(['network', 'show', 'ext', '-f', 'json'])).out['id']);
    const port = (
      await os(['port', 'create', '--network', 'net1', '--host', 'compute-1', '--device', VM, '--device-owner', 'compute:nova', 'pf', '-f', 'json'])
    ).out;
    const fixed = ((port['fixed_ips'] as Json[])[0] as Json)['ip_address'];
    const fip = (await os(['floating', 'ip', 'create', '--port', 'pf', 'ext', '-f', 'json'])).out;
    assert.equal(fip['fixed_ip_address'], fixed);
    assert.equal(fip['router_id'], router['id']);
    const esc = (x: string) => x.replaceAll('-', '--');
    const key = resourceKey({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: `compute--1-openstack-${esc(VM)}-${esc(port['id'] as string)}` });
    assert.deepEqual(((await get(key))?.['spec'] as Json)['ipNATs'], [{ internalIP: fixed, externalIP: fip['floating_ip_address'] }]);
    const listed = (await os(['floating', 'ip', 'list', '--port', 'pf', '-f', 'json'])).out as unknown as Json[];
    assert.equal(listed[0]?.['Floating IP Address'], fip['floating_ip_address']);
    await os(['floating', 'ip', 'unset', '--port', fip['id'] as string]);
    assert.equal(((await get(key))?.['spec'] as Json)['ipNATs'], undefined);
    const inUse = await os(['router', 'delete', 'r1'], false);
    assert.notEqual(inUse.code, 0);
    await os(['floating', 'ip', 'delete', fip['id'] as string]);
    await os(['port', 'delete', 'pf']);
    await os(['router', 'remove', 'subnet', 'r1', 'sub4']);
    await os(['router', 'delete', 'r1']);
    await os(['network', 'delete', 'ext']);
  });

  it('tear down: groups in use are refused, then everything deletes and Calico is clean', async () => {
    await fakeAgentAlive(kv, 'compute-1');
    await os(['port', 'create', '--network', 'net1', '--security-group', 'web', 'p4']);
    const inUse = await os(['security', 'group', 'delete', 'web'], false);
    assert.notEqual(inUse.code, 0);
    for (const p of ['p1', 'p3', 'p4']) await os(['port', 'delete', p]);
    await os(['security', 'group', 'delete', 'web']);
    assert.equal(await policy(ids['web'] ?? ''), undefined);
    await os(['subnet', 'delete', 'sub4', 'sub6']);
    assert.equal(await kv.get(dhcpSubnetKey('no-region', ids['sub4'] ?? '')), undefined);
    await os(['network', 'delete', 'net1']);
    const left = (await kv.list('/calico/resources/v3/projectcalico.org/workloadendpoints/')).items;
    assert.deepEqual(left, []);
    assert.deepEqual((await kv.list('/brindle/neutron/v1/ipam/')).items, [], 'no address leaked');
    assert.deepEqual((await kv.list('/brindle/neutron/v1/macs/')).items, [], 'no MAC leaked');
  });
});
