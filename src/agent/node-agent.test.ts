import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../datastore/index.js';
import { realClock, realExec, realFs } from '../lib/index.js';
import { eventually, makeTestNetns, trackTempDir, type TestNetns } from '../lib/testing.js';
import { felixEndpointStatusKey, felixHostStatusKey } from '../model/index.js';
import { netnsExec } from '../lib/index.js';
import { startNodeAgent, type NodeAgent } from './node-agent.js';

const R = '/calico/resources/v3/projectcalico.org/';
const NS = 'openstack';

interface Vm {
  readonly ns: TestNetns;
  readonly ip: string;
  readonly tap: string;
  readonly name: string;
}

function wepValue(vm: Vm, host: string, sgs: string[]): string {
  const labels: Record<string, string> = {};
  for (const sg of sgs) labels[`sg.projectcalico.org/openstack-${sg}`] = 'x';
  return JSON.stringify({
    kind: 'WorkloadEndpoint',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name: `${host}-openstack-${vm.name}-eth0`, namespace: NS, labels },
    spec: {
      orchestrator: 'openstack',
      workload: `wl-${vm.name}`,
      node: host,
      endpoint: `port-${vm.name}`,
      interfaceName: vm.tap,
      mac: 'fa:16:3e:00:00:0' + vm.name.slice(-1),
      ipNetworks: [`${vm.ip}/32`],
    },
  });
}

function sgPolicy(sg: string, ingress: unknown[]): string {
  return JSON.stringify({
    kind: 'NetworkPolicy',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name: `ossg.default.${sg}`, namespace: NS },
    spec: { selector: `has(sg.projectcalico.org/openstack-${sg})`, ingress, egress: [{ action: 'Allow' }] },
  });
}

const VARIANTS = [
  { dataplane: 'iptables', backend: 'nft', label: 'iptables (nft backend)' },
  { dataplane: 'iptables', backend: 'legacy', label: 'iptables (legacy backend)' },
  { dataplane: 'nft', backend: 'nft', label: 'nftables' },
] as const;

for (const { dataplane, backend, label } of VARIANTS)
  describe(`brindle node in-process, ${label}: real namespaces, real packets`, () => {
    const fs = realFs();
    const hostname = 'compute-t1';
    let dir: string;
    let kv: KvStore;
    let host: TestNetns;
    const vms: Vm[] = [];
    let agent: NodeAgent | undefined;
    const responders: { kill(): void }[] = [];

    const tcp = async (from: Vm, to: Vm, port: number): Promise<boolean> => (await from.ns.run('nc', ['-z', '-n', '-w', '1', to.ip, String(port)])).code === 0;
    const ping = async (from: Vm, to: string): Promise<boolean> => (await from.ns.run('ping', ['-c', '1', '-W', '1', '-n', to])).code === 0;

    before(async () => {
      dir = await fs.makeTempDir('brindle-agent-');
      trackTempDir(dir);
      kv = await openDatastore({ kind: 'embedded', path: dir });
      host = await makeTestNetns('brh');
      for (const [i, name] of ['vm1', 'vm2', 'vm3'].entries()) {
        const ns = await makeTestNetns('brv');
        const vm = { ns, ip: `198.18.10.${i + 1}`, tap: `tap0000000${i}-aa`, name };
        await host.must('ip', ['link', 'add', vm.tap, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
        await host.must('ip', ['link', 'set', vm.tap, 'up']);
        await ns.must('ip', ['link', 'set', 'eth0', 'address', `fa:16:3e:00:00:0${i + 1}`]);
        await ns.must('ip', ['link', 'set', 'eth0', 'up']);
        await ns.must('ip', ['addr', 'add', `${vm.ip}/24`, 'dev', 'eth0']);
        await ns.must('ip', ['route', 'add', 'default', 'via', '198.18.10.254', 'dev', 'eth0', 'onlink']);
        const child = realExec().spawn('ip', ['netns', 'exec', ns.name, 'nc', '-l', '-k', '-n', '-p', '8080']);
        responders.push(child);
        vms.push(vm);
      }
      await kv.put(`${R}networkpolicies/${NS}/ossg.default.web`, sgPolicy('web', [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } }]));
      await kv.put(
        `${R}networkpolicies/${NS}/ossg.default.db`,
        sgPolicy('db', [{ action: 'Allow', protocol: 'ICMP', source: { selector: 'has(sg.projectcalico.org/openstack-web)' } }]),
      );
      const [vm1, vm2] = vms as [Vm, Vm, Vm];
      await kv.put(`${R}workloadendpoints/${NS}/vm1`, wepValue(vm1, hostname, ['web']));
      await kv.put(`${R}workloadendpoints/${NS}/vm2`, wepValue(vm2, hostname, ['db']));
      // vm3's tap exists but no endpoint is known for it yet.
      agent = await startNodeAgent({
        kv,
        exec: netnsExec(realExec(), host.name),
        clock: realClock(),
        hostname,
        dataplane,
        iptablesBackend: backend,
        intervalOverrides: { refreshMs: 1_000 },
      });
      await agent.firstApply;
    });

    after(async () => {
      await agent?.stop();
      for (const r of responders) r.kill();
      for (const vm of vms) await vm.ns.remove();
      await host?.remove();
      await kv?.close();
      await fs.remove(dir);
    });

    it('routes each VM /32 to its tap with static ARP, and follows the policy', async () => {
      const [vm1, vm2, vm3] = vms as [Vm, Vm, Vm];
      const routes = await host.must('ip', ['route', 'show', 'proto', 'boot']);
      assert.match(routes, new RegExp(`198\\.18\\.10\\.1 dev ${vm1.tap} scope link metric 1024`));
      assert.match(await host.must('ip', ['neigh', 'show', 'dev', vm1.tap]), /198\.18\.10\.1 lladdr fa:16:3e:00:00:01 PERMANENT/);
      assert.ok(await tcp(vm2, vm1, 8080), 'web allows TCP 8080 from anyone');
      assert.ok(await ping(vm1, vm2.ip), 'db allows ICMP from web members');
      assert.equal(await ping(vm2, vm1.ip), false, 'web does not allow ICMP');
      assert.equal(await tcp(vm1, vm2, 8080), false, 'db does not allow TCP');
      assert.equal(await ping(vm3, vm1.ip), false, 'an unknown tap is dropped');
    });

    it('writes the host status on a lease and endpoint status up', async () => {
      const hostKey = await kv.get(felixHostStatusKey('no-region', hostname));
      assert.ok(hostKey);
      assert.equal((JSON.parse(hostKey.value) as { first_update: boolean }).first_update, true);
      await eventually(
        async () =>
          (await kv.get(felixEndpointStatusKey('no-region', { host: hostname, workload: 'wl-vm1', endpoint: 'port-vm1' })))?.value === '{"status":"up"}',
        { what: 'vm1 up' },
      );
    });

    it('a rule added takes effect, and a new endpoint gets its policy', async () => {
      const [vm1, vm2, vm3] = vms as [Vm, Vm, Vm];
      await kv.put(
        `${R}networkpolicies/${NS}/ossg.default.web`,
        sgPolicy('web', [
          { action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } },
          { action: 'Allow', protocol: 'ICMP' },
        ]),
      );
      const ms = await eventually(() => ping(vm2, vm1.ip), { what: 'ping vm2 → vm1 after the rule was added' });
      assert.ok(ms < 5_000);
      await kv.put(`${R}workloadendpoints/${NS}/vm3`, wepValue(vm3, hostname, ['web']));
      await eventually(() => ping(vm3, vm1.ip), { what: 'vm3 reaches vm1 once known' });
      assert.ok(await ping(vm1, vm3.ip));
    });

    it('repairs a flushed chain, a deleted set member and a deleted route within the refresh interval, leaving foreign rules', async () => {
      const [vm1, vm2] = vms as [Vm, Vm, Vm];
      if (dataplane === 'iptables') {
        const set = (await host.must('ipset', ['list', '-name'])).split('\n').find((n) => n.startsWith('cali40s:'));
        assert.ok(set !== undefined, 'the remote-group selector has an IP set');
        await host.must('ipset', ['del', set, vm1.ip]);
        await eventually(async () => (await host.run('ipset', ['test', set, vm1.ip])).code === 0, { what: 'set member repaired' });
        await host.must(`iptables-${backend}`, ['-F', 'cali-from-wl-dispatch']);
        await host.must('ip', ['route', 'del', `${vm2.ip}/32`]);
        await host.must(`iptables-${backend}`, ['-I', 'FORWARD', '1', '-s', '198.18.99.99/32', '-j', 'DROP']);
        await eventually(
          async () =>
            (await host.must(`iptables-${backend}-save`, ['-t', 'filter'])).split('\n').filter((l) => l.startsWith('-A cali-from-wl-dispatch')).length > 1,
          { what: 'dispatch repaired' },
        );
        await eventually(async () => (await host.must('ip', ['route', 'show', `${vm2.ip}/32`])).includes(vm2.tap), { what: 'route repaired' });
        const forward = (await host.must(`iptables-${backend}-save`, ['-t', 'filter'])).split('\n').filter((l) => l.startsWith('-A FORWARD'));
        assert.match(forward[0] ?? '', /cali-FORWARD/, 'our hook is back on top');
        assert.ok(
          forward.some((l) => l.includes('198.18.99.99')),
          'the foreign rule stays',
        );
      } else {
        const sets = JSON.parse(await host.must('nft', ['-j', 'list', 'sets', 'ip'])) as { nftables: { set?: { name: string } }[] };
        const set = sets.nftables.map((x) => x.set?.name).find((n) => n?.startsWith('cali40s.') === true);
        assert.ok(set !== undefined, 'the remote-group selector has an nft set');
        await host.must('nft', ['delete', 'element', 'ip', 'brindle', set, `{ ${vm1.ip} }`]);
        await eventually(async () => (await host.run('nft', ['get', 'element', 'ip', 'brindle', set, `{ ${vm1.ip} }`])).code === 0, {
          what: 'set member repaired',
        });
        await host.must('nft', ['flush', 'chain', 'ip', 'brindle', 'cali-from-wl-dispatch']);
        await host.must('ip', ['route', 'del', `${vm2.ip}/32`]);
        await host.must('nft', ['add', 'table', 'inet', 'foreign']);
        await host.must('nft', ['add', 'chain', 'inet', 'foreign', 'others', '{ type filter hook forward priority 0; policy accept; }']);
        await host.must('nft', ['add', 'rule', 'inet', 'foreign', 'others', 'ip', 'saddr', '198.18.99.99', 'drop']);
        await eventually(async () => (await host.must('nft', ['list', 'chain', 'ip', 'brindle', 'cali-from-wl-dispatch'])).includes('vmap'), {
          what: 'dispatch repaired',
        });
        await eventually(async () => (await host.must('ip', ['route', 'show', `${vm2.ip}/32`])).includes(vm2.tap), { what: 'route repaired' });
        assert.match(await host.must('nft', ['list', 'table', 'inet', 'foreign']), /198\.18\.99\.99 drop/, 'the foreign table stays');
      }
      assert.ok(await tcp(vm2, vm1, 8080), 'traffic flows again after the repair');
    });

    it('notices a tap going down and up within a second, and reports the endpoint down and up', async () => {
      const vm1 = vms[0] as Vm;
      const key = felixEndpointStatusKey('no-region', { host: hostname, workload: 'wl-vm1', endpoint: 'port-vm1' });
      await host.must('ip', ['link', 'set', vm1.tap, 'down']);
      const down = await eventually(async () => (await kv.get(key))?.value === '{"status":"down"}', { what: 'vm1 down', timeoutMs: 3_000 });
      await host.must('ip', ['link', 'set', vm1.tap, 'up']);
      const up = await eventually(async () => (await kv.get(key))?.value === '{"status":"up"}', { what: 'vm1 up again', timeoutMs: 3_000 });
      await eventually(async () => (await host.must('ip', ['route', 'show', `${vm1.ip}/32`])).includes(vm1.tap), {
        what: 'the route is back after the flap',
        timeoutMs: 3_000,
      });
      assert.ok(await ping(vms[1] as Vm, vm1.ip), 'vm1 is reachable again after the flap');
      assert.ok(down < 1_000 && up < 1_000, `down after ${down.toFixed(0)} ms, up after ${up.toFixed(0)} ms`);
      const legacyRules = (await host.run('iptables-legacy-save', [])).stdout.split('\n').filter((l) => l.includes('cali'));
      const nftRules = (await host.run('iptables-nft-save', [])).stdout.split('\n').filter((l) => l.includes('cali'));
      const ownTable = (await host.run('nft', ['list', 'table', 'ip', 'brindle'])).stdout.split('\n').filter((l) => l.includes('comment "cali:'));
      if (dataplane === 'nft') {
        assert.equal(legacyRules.length + nftRules.length, 0, 'nothing is written to iptables');
        assert.equal((await host.must('ipset', ['list', '-name'])).trim(), '', 'nor to ipset');
        assert.ok(ownTable.length > 50);
      } else {
        assert.equal((backend === 'legacy' ? nftRules : legacyRules).length, 0, 'nothing is written to the other backend');
        assert.equal(ownTable.length, 0, 'nor to an nft table');
        assert.ok((backend === 'legacy' ? legacyRules : nftRules).length > 50);
      }
    });
  });
