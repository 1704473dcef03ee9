import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { untilPasses } from '../lib/testing.js';
import { realFs } from '../lib/index.js';
import { bootVm } from './lab-api.js';
import { LabCommandError } from './errors.js';
import { startLabCloud, type LabCloud } from './testing/index.js';

const H1 = 'compute-1';

/** An HTTP GET from inside a VM (Node's http; busybox wget crashes here): `ANSWER <status> <body>` or `NOTHING`. */
function httpGetScript(url: string, source?: string): string {
  const u = new URL(url);
  return `const r = require('http').get({ host: '${u.hostname}', path: '${u.pathname}', timeout: 2000${source === undefined ? '' : `, localAddress: '${source}'`} }, (res) => { let d = ''; res.on('data', (c) => (d += c)); res.on('end', () => { console.log('ANSWER ' + res.statusCode + ' ' + d); process.exit(0); }); }); r.on('timeout', () => r.destroy(new Error('timeout'))); r.on('error', () => { console.log('NOTHING'); process.exit(0); });`;
}
const H2 = 'compute-2';

/**
 * Guests that boot like guests: each lab VM runs a real DHCP client (busybox udhcpc) and takes
 * IPv6 by SLAAC, answered by the dnsmasq `brindle node` runs on its host.
 */
describe('guests boot: DHCP and SLAAC from brindle node, metadata from 169.254.169.254 (real dnsmasq, udhcpc, RAs)', { timeout: 180_000 }, () => {
  let cloud: LabCloud;
  let netId = '';
  let v4 = '';
  let v6 = '';
  let sg = '';

  const dnsmasqPid = async (host: string): Promise<string> => (await realFs().readText(`${cloud.cluster.dhcpDir(host)}/dnsmasq.pid`)).trim();

  before(async () => {
    cloud = await startLabCloud({ hosts: 2 });
    const { api } = cloud;
    netId = (await api.createNetwork({ name: 'boot', mtu: 1400 })).id;
    v4 = (
      await api.createSubnet({
        network_id: netId,
        ip_version: 4,
        cidr: '198.18.80.0/24',
        gateway_ip: '198.18.80.1',
        dns_nameservers: ['198.18.80.53'],
        host_routes: [{ destination: '198.18.81.0/24', nexthop: '198.18.80.1' }],
      })
    ).id;
    v6 = (await api.createSubnet({ network_id: netId, ip_version: 6, cidr: '2001:db8:80::/64', ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' })).id;
    sg = (await api.createSecurityGroup({ name: 'boot' })).id;
    for (const ethertype of ['IPv4', 'IPv6'] as const) {
      await api.createSecurityGroupRule({ security_group_id: sg, direction: 'ingress', ethertype, protocol: ethertype === 'IPv4' ? 'icmp' : 'ipv6-icmp' });
    }
  });

  after(async () => {
    await cloud?.destroy();
  });

  it('a VM gets exactly its Neutron address, gateway, MTU, DNS and host routes by DHCPv4, and its IPv6 address by SLAAC', async () => {
    const { lab, api } = cloud;
    const booted = await bootVm(lab, api, {
      host: H1,
      name: 'a',
      networkId: netId,
      fixedIps: [{ subnet_id: v4, ip_address: '198.18.80.10' }, { subnet_id: v6 }],
      securityGroups: [sg],
      dhcp: true,
    });
    const lease = await lab.lease('a');
    assert.ok(lease !== undefined);
    assert.equal(lease['ip'], '198.18.80.10');
    assert.equal(lease['subnet'], '255.255.255.0');
    assert.equal(lease['router'], '198.18.80.1');
    assert.equal(lease['mtu'], '1400');
    assert.equal(lease['dns'], '198.18.80.53', "the subnet's DNS server, not the default");
    assert.match(lease['staticroutes'] ?? '', /198\.18\.81\.0\/24 198\.18\.80\.1/);
    const vm = lab.vm('a');
    assert.match(await vm.ip('-o', '-4', 'addr', 'show', 'dev', 'eth0'), /inet 198\.18\.80\.10\/24/);
    assert.match(await vm.ip('-o', 'link', 'show', 'dev', 'eth0'), /mtu 1400/);
    const v6addr = booted.info.ips.find((i) => i.ip.includes(':'))?.ip ?? '';
    await untilPasses(
      async () => {
        assert.match(
          await vm.ip('-o', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'),
          new RegExp(`inet6 ${v6addr}/64`),
          'SLAAC gave the address Neutron allocated',
        );
        assert.match(await vm.ip('-6', 'route', 'show', 'default'), /default via fe80::261:feff:feed:cafe dev eth0/, 'the router is the tap');
      },
      { timeoutMs: 15_000 },
    );
  });

  it('from a VM, 169.254.169.254 serves its own metadata: OpenStack meta_data.json with its instance uuid, and EC2-style meta-data', async () => {
    const { lab } = cloud;
    const port = (await cloud.api.listPorts()).find((p) => p.fixed_ips.some((f) => f.ip_address === '198.18.80.10'));
    assert.ok(port !== undefined);
    const wget = async (path: string): Promise<string> => {
      const out = (await lab.vm('a').must(process.execPath, ['-e', httpGetScript(`http://169.254.169.254${path}`)])).trim();
      const m = /^ANSWER 200 ([\s\S]*)$/.exec(out);
      assert.ok(m !== null, `GET ${path}: ${out}`);
      return m[1] ?? '';
    };
    const doc = JSON.parse(await wget('/openstack/latest/meta_data.json')) as { uuid: string; project_id: string; hostname: string };
    assert.equal(doc.uuid, port.device_id, 'the instance uuid Nova bound the port with');
    assert.equal(doc.project_id, port.project_id);
    assert.equal(await wget('/latest/meta-data/instance-id'), port.device_id);
    assert.equal(await wget('/latest/meta-data/local-ipv4'), '198.18.80.10');
    assert.match(await wget('/latest/meta-data/'), /^instance-id$/m);
  });

  it('renewing keeps the address', async () => {
    const { lab } = cloud;
    const vm = lab.vm('a');
    const pids = (await lab.exec.run('ip', ['netns', 'pids', vm.name])).stdout.trim().split('\n');
    assert.ok(pids.length > 0);
    await lab.exec.run('kill', ['-USR1', ...pids]);
    await untilPasses(
      async () => {
        const renew = await lab.lease('a', 'renew');
        assert.equal(renew?.['ip'], '198.18.80.10');
      },
      { timeoutMs: 15_000 },
    );
  });

  it('a VM added later on the same host gets its lease while dnsmasq keeps its PID', async () => {
    const { lab, api } = cloud;
    const pid = await dnsmasqPid(H1);
    await bootVm(lab, api, {
      host: H1,
      name: 'b',
      networkId: netId,
      fixedIps: [{ subnet_id: v4, ip_address: '198.18.80.11' }, { subnet_id: v6 }],
      securityGroups: [sg],
      dhcp: true,
    });
    assert.equal((await lab.lease('b'))?.['ip'], '198.18.80.11');
    assert.equal(await dnsmasqPid(H1), pid, 'reloaded, not restarted');
    // The lease can now come before the agent has programmed b (served from its endpoint at
    // once): wait for the fact, b reaching a.
    await untilPasses(
      async () => {
        const ping = await lab.vm('b').run('ping', ['-c', '1', '-W', '1', '-n', '198.18.80.10']);
        assert.equal(ping.code, 0, 'b reaches a with its DHCP address');
      },
      { timeoutMs: 15_000 },
    );
  });

  it("a VM that spoofs another VM's address as its source gets no metadata (not a's, not its own)", async () => {
    const { lab } = cloud;
    const b = lab.vm('b');
    const fetchMeta = (source?: string): Promise<{ stdout: string }> =>
      b.run(process.execPath, ['-e', httpGetScript('http://169.254.169.254/openstack/latest/meta_data.json', source)]);
    const own = await fetchMeta();
    assert.match(own.stdout, /^ANSWER 200 .*"uuid"/, `b gets its own metadata: ${own.stdout}`);
    await b.must('ip', ['addr', 'add', '198.18.80.10/32', 'dev', 'eth0']);
    try {
      assert.equal((await fetchMeta('198.18.80.10')).stdout.trim(), 'NOTHING', "a's address as source: dropped before it reaches the metadata service");
    } finally {
      await b.must('ip', ['addr', 'del', '198.18.80.10/32', 'dev', 'eth0']);
    }
  });

  it("a VM on host B gets no answer from host A's dnsmasq (its port is bound to A)", async () => {
    const { lab, api } = cloud;
    await assert.rejects(
      bootVm(lab, api, {
        host: H1,
        plugInto: H2,
        name: 'misplaced',
        networkId: netId,
        fixedIps: [{ subnet_id: v4, ip_address: '198.18.80.12' }],
        securityGroups: [sg],
        dhcp: true,
        dhcpTimeoutMs: 6_000,
      }),
      (err: unknown) => err instanceof LabCommandError && /no DHCP lease/.test(err.message),
    );
  });

  it('a VM running a DHCP server cannot answer another VM: leases come from the host', async () => {
    const { lab, api } = cloud;
    await bootVm(lab, api, {
      host: H2,
      name: 'rogue',
      networkId: netId,
      fixedIps: [{ subnet_id: v4, ip_address: '198.18.80.20' }],
      securityGroups: [sg],
      dhcp: true,
    });
    // The rogue serves the whole subnet from its own address, as a misbehaving guest would.
    const rogue = lab.vm('rogue');
    // Its files stay in the lab's directory (never the machine's /var/lib/misc, never /dev/null:
    // dnsmasq replaces a pid file by renaming over it).
    const files = `--conf-file=/dev/null --pid-file=${lab.leaseDir}/rogue.pid --dhcp-leasefile=${lab.leaseDir}/rogue.leases`;
    const server = await rogue.run('sh', [
      '-c',
      `dnsmasq ${files} --port=0 --interface=eth0 --bind-interfaces --dhcp-range=198.18.80.100,198.18.80.200,255.255.255.0,120 --dhcp-authoritative </dev/null >/dev/null 2>&1`,
    ]);
    assert.equal(server.code, 0, server.stderr);
    const roguePid = (await realFs().readText(`${lab.leaseDir}/rogue.pid`)).trim();
    assert.match((await lab.exec.run('ip', ['netns', 'pids', rogue.name])).stdout, new RegExp(`^${roguePid}$`, 'm'), 'the rogue DHCP server runs');
    await bootVm(lab, api, {
      host: H2,
      name: 'victim',
      networkId: netId,
      fixedIps: [{ subnet_id: v4, ip_address: '198.18.80.21' }],
      securityGroups: [sg],
      dhcp: true,
    });
    const lease = await lab.lease('victim');
    assert.equal(lease?.['ip'], '198.18.80.21', "the address Neutron gave, not one of the rogue's");
    assert.equal(lease?.['serverid'], '198.18.80.1', 'answered by the host (the gateway address), not the rogue');
    assert.equal(lease?.['dns'], '198.18.80.53');
  });
});
