// brindle deploy end to end: three bare Debian machines booted with systemd (nspawn, sshd
// only), one controller and two computes; the deploy installs Brindle and its dependencies
// from a package directory over real ssh, and then real packets go between VMs on the two
// computes under security groups. A second deploy changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { realExec, realFs, type RunResult } from '../lib/index.js';
import { makeTestCerts } from '../datastore/testing/index.js';
import { eventually, projectRoot, trackTempDir, untrackTempDir } from '../lib/testing.js';
import type { DeployReport } from './deployer.js';
import { startTestFabric, type TestFabric, type TestMachine } from './testing/test-machines.js';
import { makeTestPackageDir } from './testing/test-package-dir.js';
import { ensureTestRootfs } from './testing/test-rootfs.js';

const log = (line: string): void => {
  process.stderr.write(`[deploy-machines ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

describe('brindle deploy: 1 controller + 2 computes on simulated machines', { timeout: 900_000 }, () => {
  const exec = realExec();
  const fs = realFs();
  let dir = '';
  let fabric: TestFabric | undefined;
  let ctl: TestMachine;
  let computes: TestMachine[] = [];
  let cmp3: TestMachine | undefined;
  let first: { result: RunResult; report: DeployReport | undefined };

  const runDeploy = async (...extra: string[]): Promise<{ result: RunResult; report: DeployReport | undefined }> => {
    if (fabric === undefined) throw new Error('no fabric');
    const args = [
      join(projectRoot(), 'bin', 'brindle'),
      'deploy',
      '-i',
      join(dir, 'inventory.yaml'),
      '-s',
      join(dir, 'settings.yaml'),
      '--ssh-identity',
      fabric.sshKey,
      '--ssh-option',
      'StrictHostKeyChecking=no',
      'UserKnownHostsFile=/dev/null',
      'LogLevel=ERROR',
      '-o',
      'json',
      ...extra,
    ];
    const result = await fabric.netns.run(process.execPath, args);
    for (const line of result.stderr.trim().split('\n')) log(`  ${line}`);
    let report: DeployReport | undefined;
    try {
      report = JSON.parse(result.stdout) as DeployReport;
    } catch {
      report = undefined;
    }
    return { result, report };
  };

  // On a new machine this first builds the root filesystem and downloads the packages (a few minutes).
  before(
    async () => {
      dir = await fs.makeTempDir('brindle-deploy-machines-');
      trackTempDir(dir);
      const rootfs = await ensureTestRootfs(log);
      const [fab] = await Promise.all([
        startTestFabric(
          [
            { name: 'ctl1', host: 11 },
            { name: 'cmp1', host: 12 },
            { name: 'cmp2', host: 13 },
          ],
          log,
        ),
        makeTestPackageDir(rootfs, join(dir, 'packages'), log),
      ]);
      fabric = fab;
      const [c, a, b] = fab.machines;
      if (c === undefined || a === undefined || b === undefined) throw new Error('machines missing');
      ctl = c;
      computes = [a, b];
      await fs.writeTextAtomic(
        join(dir, 'inventory.yaml'),
        [
          'machines:',
          `  - { name: ctl1, address: ${ctl.address}, roles: [controller] }`,
          `  - { name: cmp1, address: ${a.address}, roles: [compute] }`,
          `  - { name: cmp2, address: ${b.address}, roles: [compute] }`,
          '',
        ].join('\n'),
      );
      // One certificate for the member and every client, valid for the member's address and loopback.
      await makeTestCerts(join(dir, 'tls'), ['etcd', 'client'], [ctl.address, '127.0.0.1']);
      await fs.writeTextAtomic(
        join(dir, 'settings.yaml'),
        [
          'asNumber: 64512',
          'bgp: { topology: mesh }',
          'ipPools: [{ cidr: 198.18.64.0/20, natOutgoing: false }]',
          'etcd: { tls: { caFile: tls/ca.crt, certFile: tls/etcd.crt, keyFile: tls/etcd.key, clientCertFile: tls/client.crt, clientKeyFile: tls/client.key } }',
          'packages: { directory: packages }',
          '',
        ].join('\n'),
      );
      log('deploying');
      first = await runDeploy();
    },
    { timeout: 480_000 },
  );

  after(async () => {
    await fabric?.remove();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('deploys from bare machines and its own verification passes', () => {
    assert.equal(first.result.code, 0, `deploy failed:\n${first.result.stderr.slice(-4000)}`);
    const report = first.report;
    assert.ok(report !== undefined, first.result.stdout);
    assert.ok(report.changes > 0);
    const checks = report.checks.map((c) => `${c.ok ? 'ok' : 'FAILED'} ${c.check}: ${c.detail}`);
    assert.ok(
      report.checks.every((c) => c.ok),
      checks.join('\n'),
    );
    for (const name of ['etcd health', 'agents alive', 'BGP sessions on cmp1', 'BGP sessions on cmp2', 'test port on cmp1 ACTIVE'])
      assert.ok(
        report.checks.some((c) => c.check === name && c.ok),
        `${name} in ${checks.join('; ')}`,
      );
  });

  it('leaves the units enabled and active by role, etcd healthy, BIRD peered across the computes', async () => {
    assert.equal(
      (await ctl.must('systemctl is-enabled etcd brindle-api brindle-console; systemctl is-active etcd brindle-api brindle-console')).trim(),
      'enabled\nenabled\nenabled\nactive\nactive\nactive',
    );
    // The console on the controller's loopback sees both computes' agents alive.
    const overview = `const r = await fetch('http://127.0.0.1:9797/api/overview'); console.log(await r.text());`;
    await eventually(
      async () => {
        const o = JSON.parse(await ctl.must(`node --input-type=module <<'JS'\n${overview}\nJS`)) as { hostsAlive?: number };
        return o.hostsAlive === 2;
      },
      { timeoutMs: 20_000, what: 'the console on ctl1 showing 2 hosts alive' },
    );
    for (const m of computes) {
      assert.equal((await m.must('systemctl is-enabled brindle-node; systemctl is-active brindle-node')).trim(), 'enabled\nactive');
      assert.equal((await m.must('systemctl is-enabled bird || true')).trim(), 'masked', `${m.name}: Debian's own BIRD service stays off`);
    }
    // etcd speaks TLS only, and wants a client certificate.
    const tls = '--cacert=/etc/brindle/etcd-ca.pem --cert=/etc/brindle/etcd-cert.pem --key=/etc/brindle/etcd-key.pem';
    assert.match(await ctl.must(`ETCDCTL_API=3 etcdctl ${tls} --endpoints=https://${ctl.address}:2379 endpoint health 2>&1`), /is healthy/);
    const plain = await ctl.ssh(`ETCDCTL_API=3 etcdctl --endpoints=http://${ctl.address}:2379 --command-timeout=2s endpoint health 2>&1`);
    assert.notEqual(plain.code, 0, 'no plain-text etcd');
    assert.match(await computes[0]!.must('cat /etc/brindle/brindle.yaml'), /datastore: etcd:https:\/\/198\.18\.0\.11:2379/);
    // The members' key stays on the members: computes hold the client pair only.
    assert.notEqual(await computes[0]!.must('cat /etc/brindle/etcd-key.pem'), await ctl.must('cat /etc/etcd/brindle-key.pem'));
    assert.equal((await computes[0]!.ssh('test -e /etc/etcd/brindle-key.pem')).code, 1);
    const birdc = await computes[0]?.must('birdc -s /run/brindle/bird/bird.ctl show protocols');
    assert.match(birdc ?? '', /Established/, `cmp1's BGP session to cmp2:\n${birdc}`);
  });

  it('a second deploy changes nothing and says so', async () => {
    const again = await runDeploy('--no-verify');
    assert.equal(again.result.code, 0, again.result.stderr.slice(-3000));
    const changed = (again.report?.steps ?? []).filter((s) => s.changes.length > 0).map((s) => `${s.machine} ${s.step}: ${s.changes.join('; ')}`);
    assert.deepEqual(changed, [], 'no step changed anything');
    assert.equal(again.report?.changes, 0);
    assert.match(again.result.stderr, /deploy: no changes/);
  });

  it('a pool changed in the settings replaces the old one (deploy removes what it wrote and the settings dropped)', async () => {
    const settingsFile = join(dir, 'settings.yaml');
    const before = await fs.readText(settingsFile);
    await fs.writeTextAtomic(settingsFile, before.replace('198.18.64.0/20', '198.18.80.0/20'));
    const moved = await runDeploy('--no-verify');
    assert.equal(moved.result.code, 0, moved.result.stderr.slice(-3000));
    const changed = (moved.report?.steps ?? []).filter((st) => st.changes.length > 0).map((st) => `${st.machine} ${st.step}: ${st.changes.join('; ')}`);
    assert.deepEqual(changed, ['ctl1 resources: apply IPPool pool-198-18-80-0-20; delete IPPool pool-198-18-64-0-20 (no longer in the settings)']);
    await fs.writeTextAtomic(settingsFile, before);
    const back = await runDeploy('--no-verify');
    assert.equal(back.result.code, 0, back.result.stderr.slice(-3000));
    assert.match(await ctl.must('brindle ctl get ippool'), /pool-198-18-64-0-20/);
  });

  it('refuses a setting out of range with the field named, and changes nothing', async () => {
    await fs.writeTextAtomic(join(dir, 'bad.yaml'), 'asNumber: 0\npackages: { directory: packages }\n');
    if (fabric === undefined) throw new Error('no fabric');
    const r = await exec.run(process.execPath, [
      join(projectRoot(), 'bin', 'brindle'),
      'deploy',
      '-i',
      join(dir, 'inventory.yaml'),
      '-s',
      join(dir, 'bad.yaml'),
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad\.yaml: asNumber: must be at least 1/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  });

  /** Neutron API calls on the controller (the API listens on its loopback). */
  const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const request = JSON.stringify({ method, path, body: body ?? null });
    const program = `const q = ${request}; const r = await fetch('http://127.0.0.1:9696' + q.path, { method: q.method, headers: { 'content-type': 'application/json' }, body: q.body === null ? undefined : JSON.stringify(q.body) }); console.log((await r.text()) || '{}');`;
    return JSON.parse(await ctl.must(`node --input-type=module <<'JS'\n${program}\nJS`)) as Record<string, unknown>;
  };
  const vms = new Map<string, { host: TestMachine; portId: string; mac: string; ip: string }>();
  let networkId = '';

  /** Plugs a VM as Nova plugs a Calico port: a veth whose host end is the tap, the VM's end eth0 (a namespace) with the port's MAC. */
  const plug = async (name: string): Promise<void> => {
    const v = vms.get(name);
    if (v === undefined) throw new Error(`no VM ${name}`);
    const tap = `tap${v.portId}`.slice(0, 14);
    await v.host.must(
      [
        `ip netns add ${name}`,
        `ip link add ${tap} type veth peer name eth0 netns ${name}`,
        `ip link set ${tap} address 00:61:fe:ed:ca:fe up`,
        `ip -n ${name} link set eth0 address ${v.mac} up`,
        `ip -n ${name} link set lo up`,
        `ip -n ${name} addr add ${v.ip}/24 dev eth0`,
        `ip -n ${name} route add default via 198.18.64.1 dev eth0 onlink`,
      ].join(' && '),
    );
    await eventually(async () => ((await api('GET', `/v2.0/ports/${v.portId}`))['port'] as { status: string }).status === 'ACTIVE', {
      timeoutMs: 60_000,
      what: `${name}'s port ACTIVE`,
    });
  };
  const bootVm = async (host: TestMachine, name: string, ip: string, group: string): Promise<void> => {
    const body = {
      network_id: networkId,
      name,
      fixed_ips: [{ ip_address: ip }],
      security_groups: [group],
      'binding:host_id': host.name,
      device_owner: 'compute:nova',
      device_id: name,
    };
    const port = (await api('POST', '/v2.0/ports', { port: body }))['port'] as { id: string; mac_address: string };
    vms.set(name, { host, portId: port.id, mac: port.mac_address, ip });
    await plug(name);
  };
  /** One ICMP echo from a VM (ping is not on a bare machine; python3 came with Node.js's package); exit 0 if answered within 1 s. */
  const echo = (from: string, to: string): Promise<RunResult> => {
    const v = vms.get(from);
    if (v === undefined) throw new Error(`no VM ${from}`);
    const py = [
      'import socket, struct, sys',
      's = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)',
      's.settimeout(1)',
      "c = sum(struct.unpack('!HHHH', struct.pack('!BBHHH', 8, 0, 0, 7, 1)))",
      'c = (c >> 16) + (c & 0xffff)',
      `s.sendto(struct.pack('!BBHHH', 8, 0, ~c & 0xffff, 7, 1), ('${to}', 0))`,
      'try:',
      '    data, addr = s.recvfrom(1024)',
      `    sys.exit(0 if addr[0] == '${to}' and data[20] == 0 else 1)`,
      'except socket.timeout:',
      '    sys.exit(1)',
    ].join('\n');
    return v.host.ssh(`ip netns exec ${from} python3 - <<'PY'\n${py}\nPY`);
  };
  const answered = (from: string, to: string, what: string): Promise<number> =>
    eventually(async () => (await echo(from, to)).code === 0, { timeoutMs: 30_000, what });

  it('carries packets between VMs on the two computes under a security group that allows them, and not under one that does not', async () => {
    networkId = ((await api('POST', '/v2.0/networks', { network: { name: 'e2e' } }))['network'] as { id: string }).id;
    await api('POST', '/v2.0/subnets', { subnet: { network_id: networkId, ip_version: 4, cidr: '198.18.64.0/24', gateway_ip: '198.18.64.1' } });
    const sg = async (name: string, icmp: boolean): Promise<string> => {
      const g = (await api('POST', '/v2.0/security-groups', { security_group: { name } }))['security_group'] as { id: string };
      if (icmp)
        await api('POST', '/v2.0/security-group-rules', {
          security_group_rule: { security_group_id: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' },
        });
      return g.id;
    };
    const allow = await sg('allow-icmp', true);
    const deny = await sg('no-ingress', false);
    const [cmp1, cmp2] = computes;
    if (cmp1 === undefined || cmp2 === undefined) throw new Error('computes missing');
    await bootVm(cmp1, 'vm1', '198.18.64.11', allow);
    await bootVm(cmp2, 'vm2', '198.18.64.12', allow);
    await bootVm(cmp2, 'vm3', '198.18.64.13', deny);
    // Across hosts, allowed: routes spread by BGP between the computes, the rule lets ICMP in.
    await answered('vm1', '198.18.64.12', 'vm1 (cmp1) -> vm2 (cmp2) echo answered');
    await answered('vm2', '198.18.64.11', 'vm2 (cmp2) -> vm1 (cmp1) echo answered');
    // vm3 reaches vm1 (vm1 lets ICMP in), so the path to vm3's host works both ways...
    await answered('vm3', '198.18.64.11', 'vm3 (cmp2) -> vm1 (cmp1) echo answered');
    // ...and vm3's group lets nothing in: vm1's echo to it goes unanswered.
    assert.notEqual((await echo('vm1', '198.18.64.13')).code, 0, "vm1 -> vm3 is dropped by vm3's security group");
  });

  it('a rebooted compute comes back by itself: units enabled, BGP up, its VM reachable again once Nova restarts it', async () => {
    const cmp1 = computes[0];
    if (cmp1 === undefined) throw new Error('computes missing');
    await cmp1.reboot();
    assert.equal((await cmp1.must('systemctl is-enabled brindle-node')).trim(), 'enabled');
    await eventually(async () => (await cmp1.ssh('systemctl is-active brindle-node')).stdout.trim() === 'active', {
      timeoutMs: 30_000,
      what: 'brindle-node active after the reboot',
    });
    await eventually(
      async () => {
        const r = await cmp1.ssh('brindle ctl node status -o json');
        return r.code === 0 && (JSON.parse(r.stdout) as { bgp?: { numberEstablishedV4: number } }).bgp?.numberEstablishedV4 === 1;
      },
      { timeoutMs: 60_000, what: "cmp1's BGP session Established again" },
    );
    // The namespace (the VM) did not survive the reboot; Nova would start the instance again.
    await plug('vm1');
    await answered('vm1', '198.18.64.12', 'vm1 -> vm2 again after the reboot');
    assert.match(await cmp1.must('nft list tables'), /brindle/, 'the policy table is back');
  });

  it('adding a third compute: --check names only it, the deploy touches only it, and it joins the mesh', async () => {
    if (fabric === undefined) throw new Error('no fabric');
    cmp3 = await fabric.addMachine({ name: 'cmp3', host: 14 });
    await fs.writeTextAtomic(
      join(dir, 'inventory.yaml'),
      `${await fs.readText(join(dir, 'inventory.yaml'))}  - { name: cmp3, address: ${cmp3.address}, roles: [compute] }\n`,
    );
    const check = await runDeploy('--check');
    assert.equal(check.result.code, 0, check.result.stderr.slice(-3000));
    const would = (check.report?.steps ?? []).filter((st) => st.changes.length > 0);
    assert.ok(would.length > 0, 'the check names changes');
    assert.deepEqual([...new Set(would.map((st) => st.machine))], ['cmp3'], 'only cmp3 would change');
    assert.equal((await cmp3.ssh('command -v brindle')).code, 1, '--check installed nothing');
    const added = await runDeploy();
    assert.equal(added.result.code, 0, added.result.stderr.slice(-4000));
    const changed = (added.report?.steps ?? []).filter((st) => st.changes.length > 0);
    assert.deepEqual([...new Set(changed.map((st) => st.machine))], ['cmp3'], 'only cmp3 changed');
    assert.ok(
      added.report?.checks.every((c) => c.ok),
      JSON.stringify(added.report?.checks),
    );
    const cmp1 = computes[0];
    await eventually(
      async () => {
        const r = await cmp1?.ssh('brindle ctl node status -o json');
        return r?.code === 0 && (JSON.parse(r.stdout) as { bgp?: { numberEstablishedV4: number } }).bgp?.numberEstablishedV4 === 2;
      },
      { timeoutMs: 60_000, what: 'cmp1 peers with cmp2 and the new cmp3' },
    );
  });

  it('retiring the third compute stops its agent and drops it from the mesh, touching nothing else', async () => {
    const inventory = join(dir, 'inventory.yaml');
    await fs.writeTextAtomic(inventory, (await fs.readText(inventory)).replace(/(name: cmp3.*roles: \[compute\])/, '$1, retire: true'));
    const retired = await runDeploy();
    assert.equal(retired.result.code, 0, retired.result.stderr.slice(-4000));
    const changed = (retired.report?.steps ?? []).filter((st) => st.changes.length > 0).map((st) => `${st.machine} ${st.step}: ${st.changes.join('; ')}`);
    assert.deepEqual(changed, ['cmp3 retire: stop and disable brindle-node.service', 'ctl1 retire: delete Node cmp3']);
    assert.equal((await cmp3?.ssh('systemctl is-active brindle-node'))?.stdout.trim(), 'inactive');
    await eventually(
      async () => {
        const r = await computes[0]?.ssh('brindle ctl node status -o json');
        return (
          r?.code === 0 && (JSON.parse(r.stdout) as { bgp?: { numberEstablishedV4: number; numberNotEstablishedV4: number } }).bgp?.numberEstablishedV4 === 1
        );
      },
      { timeoutMs: 60_000, what: 'cmp1 peers with cmp2 only again' },
    );
  });
});
