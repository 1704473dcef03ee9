import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { netnsExec, realClock, realExec, realFs, silentLogger, type ChildHandle } from '../lib/index.js';
import { makeTestNetns, trackChild, trackTempDir, untilPasses, untrackTempDir, type TestNetns } from '../lib/testing.js';
import { DnsmasqDaemon, renderDnsmasq, type DhcpEndpoint, type DhcpSubnetInput, type RenderedDnsmasq } from './index.js';

// A real dnsmasq in a "host" namespace serving two "VM" namespaces over veth pairs (the host
// end named tap…, MAC 00:61:fe:ed:ca:fe as Nova does), with real DHCP clients (busybox udhcpc)
// and the VMs' own kernels doing SLAAC from its router advertisements.

const fs = realFs();
const exec = realExec();
const TAP_MAC = '00:61:fe:ed:ca:fe';
const TAP_LINK_LOCAL = 'fe80::261:feff:feed:cafe';

const SUBNET4: DhcpSubnetInput = {
  id: 'v4',
  networkId: 'net-a',
  cidr: '198.18.1.0/24',
  gatewayIp: '198.18.1.1',
  dnsServers: ['198.18.0.53'],
  hostRoutes: [{ destination: '198.19.0.0/16', nexthop: '198.18.1.1' }],
};
const SUBNET6: DhcpSubnetInput = {
  id: 'v6',
  networkId: 'net-a',
  cidr: '2001:db8:1::/64',
  gatewayIp: '2001:db8:1::1',
  dnsServers: [],
  hostRoutes: [],
  ipv6RaMode: 'slaac',
  ipv6AddressMode: 'slaac',
};
const VM1: DhcpEndpoint = {
  tap: 'tapvm1',
  mac: 'fa:16:3e:00:00:01',
  ips: ['198.18.1.10', '2001:db8:1:0:f816:3eff:fe00:1'],
  networkId: 'net-a',
  mtu: 1400,
  hostname: 'vm-one',
};
const VM2: DhcpEndpoint = { tap: 'tapvm2', mac: 'fa:16:3e:00:00:02', ips: ['198.18.1.11'], networkId: 'net-a', mtu: 1400 };
/** A client whose MAC no endpoint has. */
const STRANGER_MAC = 'fa:16:3e:00:00:99';

/** The udhcpc hook: records each event's environment as `<dir>/<vm>.<event>` and configures eth0. */
const SCRIPT = `#!/bin/sh
env | sort > "$LEASE_DIR/$VM_NAME.$1.tmp" && mv "$LEASE_DIR/$VM_NAME.$1.tmp" "$LEASE_DIR/$VM_NAME.$1"
case "$1" in
  bound|renew) ip addr replace "$ip/$subnet" dev "$interface"; [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu" ;;
esac
exit 0
`;

describe('DnsmasqDaemon (real dnsmasq, real DHCP clients, in namespaces)', { timeout: 120_000 }, () => {
  let host: TestNetns;
  const vms = new Map<string, TestNetns>();
  let dir = '';
  let daemon: DnsmasqDaemon;
  const clients: ChildHandle[] = [];
  let client1: ChildHandle | undefined;

  const make = (): DnsmasqDaemon =>
    new DnsmasqDaemon({
      exec: netnsExec(exec, host.name),
      fs,
      clock: realClock(),
      logger: silentLogger(),
      runDir: join(dir, 'dnsmasq'),
      gatewayIface: 'ns-dhcp',
    });
  const render = (endpoints: readonly DhcpEndpoint[], subnets: readonly DhcpSubnetInput[] = [SUBNET4, SUBNET6]): RenderedDnsmasq =>
    renderDnsmasq({
      hostname: 'compute-1',
      interfacePrefix: 'tap',
      gatewayIface: 'ns-dhcp',
      endpoints,
      subnets,
      leaseSeconds: 600,
      domain: 'brindle.test',
      defaultDnsServers: [],
      paths: { dir: join(dir, 'dnsmasq') },
    });

  /** A VM namespace joined to the host by a veth pair: `tap` in the host, eth0 (with `mac`) in the VM. */
  async function addVm(name: string, tap: string, mac: string, ips: readonly string[]): Promise<TestNetns> {
    const vm = await makeTestNetns('brdv');
    vms.set(name, vm);
    const link = await exec.run('ip', ['link', 'add', tap, 'netns', host.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vm.name]);
    assert.equal(link.code, 0, link.stderr);
    await host.must('ip', ['link', 'set', tap, 'address', TAP_MAC, 'up']);
    await host.must('sysctl', ['-qw', `net.ipv4.conf.${tap}.proxy_arp=1`]);
    for (const ip of ips) await host.must('ip', ['route', 'replace', ip.includes(':') ? `${ip}/128` : `${ip}/32`, 'dev', tap]);
    await vm.must('ip', ['link', 'set', 'eth0', 'address', mac, 'up']);
    return vm;
  }

  const vm = (name: string): TestNetns => {
    const v = vms.get(name);
    assert.ok(v !== undefined, name);
    return v;
  };

  const udhcpcArgs = (extra: readonly string[]): string[] => [
    'busybox',
    'udhcpc',
    '-i',
    'eth0',
    '-f',
    '-t',
    '3',
    '-T',
    '1',
    '-s',
    join(dir, 'hook.sh'),
    '-O',
    'mtu',
    '-O',
    'staticroutes',
    ...extra,
  ];

  /** One DHCP exchange (discover … ack, or nothing): true when a lease was obtained. */
  async function dhcpOnce(name: string): Promise<boolean> {
    const r = await exec.run('ip', ['netns', 'exec', vm(name).name, 'env', `LEASE_DIR=${dir}`, `VM_NAME=${name}`, ...udhcpcArgs(['-q', '-n'])], {
      timeoutMs: 20_000,
    });
    return r.code === 0;
  }

  async function leaseEnv(name: string, event: string): Promise<Record<string, string>> {
    const text = await fs.readText(join(dir, `${name}.${event}`));
    return Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  before(async () => {
    dir = await fs.makeTempDir('brindle-dhcp-');
    trackTempDir(dir);
    await fs.writeTextAtomic(join(dir, 'hook.sh'), SCRIPT);
    await exec.run('chmod', ['0755', dir, join(dir, 'hook.sh')]);
    host = await makeTestNetns('brdh');
    await host.must('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    await addVm('vm1', VM1.tap, VM1.mac, VM1.ips);
    daemon = make();
  });

  after(async () => {
    for (const c of clients) c.kill('SIGKILL');
    await daemon?.stop();
    for (const v of vms.values()) await v.remove();
    await host?.remove();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('VM 1 gets exactly its address, router, MTU, DNS, domain and host route by DHCPv4; a renew keeps it', async () => {
    assert.equal(await daemon.apply(render([VM1])), 'started');
    const gw = await host.must('ip', ['-o', 'addr', 'show', 'dev', 'ns-dhcp']);
    assert.match(gw, /inet 198\.18\.1\.1\/24 /);
    assert.match(gw, /inet6 2001:db8:1::1\/64 /);
    assert.equal((await host.must('ip', ['route', 'show', 'dev', 'ns-dhcp'])).trim(), '', 'no connected route: the /32s route');
    assert.equal((await host.must('ip', ['-6', 'route', 'show', 'dev', 'ns-dhcp'])).includes('2001:db8:1::/64'), false);

    client1 = exec.spawn('ip', ['netns', 'exec', vm('vm1').name, 'env', `LEASE_DIR=${dir}`, 'VM_NAME=vm1', ...udhcpcArgs([])]);
    trackChild(client1);
    clients.push(client1);
    await untilPasses(() => assert.ok(fs.exists(join(dir, 'vm1.bound'))), { timeoutMs: 15_000 });
    const env = await leaseEnv('vm1', 'bound');
    assert.equal(env['ip'], '198.18.1.10');
    assert.equal(env['subnet'], '255.255.255.0');
    assert.equal(env['router'], '198.18.1.1');
    assert.equal(env['mtu'], '1400');
    assert.equal(env['dns'], '198.18.0.53');
    assert.equal(env['domain'], 'brindle.test');
    assert.equal(env['hostname'], 'vm-one');
    assert.equal(env['lease'], '600');
    assert.equal(env['staticroutes'], '198.19.0.0/16 198.18.1.1 0.0.0.0/0 198.18.1.1');

    const pid = await daemon.pid();
    client1.kill('SIGUSR1'); // udhcpc: renew now (a unicast REQUEST to the server, through the tap)
    await untilPasses(() => assert.ok(fs.exists(join(dir, 'vm1.renew'))), { timeoutMs: 15_000 });
    assert.equal((await leaseEnv('vm1', 'renew'))['ip'], '198.18.1.10');
    assert.equal(await daemon.pid(), pid);
  });

  it("IPv6: the VM configures its address by SLAAC from the RA; default route via the tap's link-local, prefix off-link", async (t) => {
    await untilPasses(
      async () => {
        const addrs = await vm('vm1').must('ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']);
        assert.match(addrs, /inet6 2001:db8:1:0:f816:3eff:fe00:1\/64 /);
        // Usable only once duplicate address detection is over (a tentative address sends nothing).
        assert.doesNotMatch(addrs, /tentative/);
      },
      { timeoutMs: 30_000 },
    );
    const routes = await vm('vm1').must('ip', ['-6', 'route', 'show']);
    t.diagnostic(`VM routes: ${routes.trim().replaceAll('\n', ' | ')}`);
    assert.match(routes, new RegExp(`default via ${TAP_LINK_LOCAL} dev eth0 proto ra`));
    assert.doesNotMatch(routes, /^2001:db8:1::\/64 dev eth0 proto ra/m, 'the RA does not make the prefix on-link');
    // And the VM reaches its gateway address on the host through the tap. (Under load the first
    // neighbour discovery can take its time: the fact waited for is a ping that comes back.)
    await untilPasses(
      async () => {
        await vm('vm1').must('ping', ['-6', '-c', '1', '-W', '2', '2001:db8:1::1']);
      },
      { timeoutMs: 15_000 },
    );
    await vm('vm1').must('ping', ['-c', '3', '-i', '0.3', '-W', '2', '198.18.1.1']);
  });

  it('VM 2 on a new tap gets its lease after a reload: same dnsmasq PID, VM 1 still renews', async () => {
    const pid = await daemon.pid();
    await addVm('vm2', VM2.tap, VM2.mac, VM2.ips);
    assert.equal(await daemon.apply(render([VM1, VM2])), 'reloaded');
    assert.equal(await dhcpOnce('vm2'), true, 'VM 2 got a lease');
    assert.equal((await leaseEnv('vm2', 'bound'))['ip'], '198.18.1.11');
    assert.equal((await leaseEnv('vm2', 'bound'))['hostname'], 'host-198-18-1-11');
    assert.equal(await daemon.pid(), pid, 'not restarted');
    // dnsmasq 2.90 dies on the first packet after such a reload when hosts lines set tags: not ours.
    await fs.remove(join(dir, 'vm1.renew'));
    client1?.kill('SIGUSR1');
    await untilPasses(() => assert.ok(fs.exists(join(dir, 'vm1.renew'))), { timeoutMs: 15_000 });
    assert.equal(await daemon.pid(), pid);
    assert.match(await fs.readText(daemon.paths.leases), /fa:16:3e:00:00:01 198\.18\.1\.10 /);
  });

  it('a VM whose MAC is unknown gets no lease', async () => {
    await addVm('stranger', 'tapvm3', STRANGER_MAC, []);
    assert.equal(await dhcpOnce('stranger'), false);
    assert.equal(fs.exists(join(dir, 'stranger.bound')), false);
    assert.ok((await daemon.pid()) !== undefined);
  });

  it('VM 2 removed: reloaded, and it gets no new lease', async () => {
    const pid = await daemon.pid();
    assert.equal(await daemon.apply(render([VM1])), 'reloaded');
    assert.equal(await daemon.apply(render([VM1])), 'unchanged');
    await fs.remove(join(dir, 'vm2.bound'));
    await vm('vm2').must('ip', ['addr', 'flush', 'dev', 'eth0', 'scope', 'global']);
    assert.equal(await dhcpOnce('vm2'), false);
    assert.equal(await daemon.pid(), pid);
  });

  it('a new agent adopts the running dnsmasq: one reload, then nothing; never a second dnsmasq', async () => {
    const pid = await daemon.pid();
    const adopted = make();
    assert.equal(await adopted.pid(), pid);
    assert.equal(await adopted.apply(render([VM1])), 'reloaded');
    assert.equal(await adopted.apply(render([VM1])), 'unchanged');
    assert.equal(adopted.starts, 0);
    assert.equal(await adopted.ensureRunning(), false);
  });

  it('a subnet change restarts dnsmasq; the leases file survives', async () => {
    const pid = await daemon.pid();
    assert.equal(await daemon.apply(render([VM1], [{ ...SUBNET4, cidr: '198.18.0.0/23' }, SUBNET6])), 'restarted');
    assert.notEqual(await daemon.pid(), pid);
    assert.match(await host.must('ip', ['-o', 'addr', 'show', 'dev', 'ns-dhcp']), /inet 198\.18\.1\.1\/23 /);
    assert.doesNotMatch(await host.must('ip', ['-o', 'addr', 'show', 'dev', 'ns-dhcp']), /198\.18\.1\.1\/24/);
    assert.match(await fs.readText(daemon.paths.leases), /fa:16:3e:00:00:01 198\.18\.1\.10 /);
    await fs.remove(join(dir, 'vm1.renew'));
    client1?.kill('SIGUSR1');
    await untilPasses(() => assert.ok(fs.exists(join(dir, 'vm1.renew'))), { timeoutMs: 15_000 });
    assert.equal((await leaseEnv('vm1', 'renew'))['ip'], '198.18.1.10');
  });

  it('killed: ensureRunning starts it again; a stale pid file naming another process is never signalled', async () => {
    const pid = await daemon.pid();
    assert.ok(pid !== undefined);
    await exec.run('kill', ['-KILL', String(pid)]);
    await untilPasses(async () => assert.equal(await daemon.pid(), undefined));
    assert.equal(await daemon.ensureRunning(), true);
    const second = await daemon.pid();
    assert.ok(second !== undefined && second !== pid);

    await daemon.stop();
    const sleeper = exec.spawn('sleep', ['30']);
    trackChild(sleeper);
    try {
      await fs.writeTextAtomic(daemon.paths.pid, `${sleeper.pid}\n`);
      assert.equal(await daemon.pid(), undefined, 'not our dnsmasq');
      await daemon.stop();
      assert.ok(fs.exists(`/proc/${sleeper.pid}`), 'the other process lives on');
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
