import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BRINDLE_BIN } from '../../lab/index.js';
import { LAB_PROJECT } from './lab.js';
import { realExec, realFs, type ChildHandle } from '../../lib/index.js';
import { trackChild, trackTempDir, untrackTempDir, untilPasses } from '../../lib/testing.js';

const exec = realExec();
const fs = realFs();

interface StatusJson {
  api: string;
  datastore: string;
  hosts: { hostname: string; netns: string; address: string; birdSocket: string | null }[];
  vms: { name: string; netns: string; host: string; port: string; addresses: string[]; floatingIps: string[] }[];
  border?: { netns: string; address: string; asNumber: number; outside: { netns: string; address: string } };
}

/** The lab's CLI as an operator or a script drives it: lab up in one process, the rest from another. */
describe('brindle lab up / status / vm add / vm rm (real processes, real packets)', { timeout: 180_000 }, () => {
  let dir = '';
  let up: ChildHandle | undefined;
  let upOut = '';

  const brindle = async (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    exec.run(process.execPath, [BRINDLE_BIN, ...args, '--state-dir', join(dir, 'labs')], { timeoutMs: 60_000 });

  before(async () => {
    dir = await fs.makeTempDir('brindle-lab-cli-');
    trackTempDir(dir);
    // The hosts' dnsmasq runs as nobody and must reach its files under the state directory.
    await exec.run('chmod', ['755', dir]);
    up = exec.spawn(process.execPath, [BRINDLE_BIN, 'lab', 'up', '--hosts', '2', '--border', '--state-dir', join(dir, 'labs')], {
      env: { ...process.env, BRINDLE_LOG_LEVEL: 'warn' },
    });
    trackChild(up);
    up.stdin.end();
    up.stdout.setEncoding('utf8').on('data', (d: string) => (upOut += d));
    up.stderr.resume();
    await untilPasses(() => assert.match(upOut, /Ctrl-C removes the lab/), { timeoutMs: 90_000 });
  });

  after(async () => {
    up?.kill('SIGKILL');
    await brindle('lab', 'down');
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('status -o json describes the running lab for scripts', async () => {
    const r = await brindle('lab', 'status', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as StatusJson;
    assert.match(s.api, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(s.datastore, /^embedded:/);
    assert.deepEqual(
      s.hosts.map((h) => [h.hostname, h.address]),
      [
        ['compute-1', '198.19.0.1'],
        ['compute-2', '198.19.0.2'],
      ],
    );
    for (const h of s.hosts) assert.ok(h.birdSocket !== null && fs.exists(h.birdSocket), `${h.hostname}'s BIRD socket exists`);
    assert.equal(s.border?.asNumber, 65000);
    assert.equal(s.border?.outside.address, '198.18.200.10');
    assert.match(upOut, /host compute-2: namespace/, 'lab up showed its progress');
  });

  it('vm add plugs VMs on two hosts that reach each other across hosts; vm rm takes one away', async () => {
    const add = async (name: string, host: string): Promise<{ netns: string; addresses: string[] }> => {
      const r = await brindle('lab', 'vm', 'add', '--host', host, '--name', name, '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { netns: string; addresses: string[] };
    };
    const a = await add('a', 'compute-1');
    const b = await add('b', 'compute-2');
    assert.equal(a.addresses.length, 2, 'an IPv4 and an IPv6 address');
    // Both are in the project's default group, which admits its own members.
    await untilPasses(
      async () => {
        const ping = await exec.run('ip', ['netns', 'exec', a.netns, 'ping', '-c', '1', '-W', '1', '-n', b.addresses[0] ?? '']);
        assert.equal(ping.code, 0, `a reaches b across hosts: ${ping.stdout}`);
      },
      { timeoutMs: 20_000 },
    );
    const rm = await brindle('lab', 'vm', 'rm', 'a');
    assert.equal(rm.code, 0, rm.stderr);
    const s = JSON.parse((await brindle('lab', 'status', '-o', 'json')).stdout) as StatusJson;
    assert.deepEqual(
      s.vms.map((v) => v.name),
      ['b'],
    );
    const bad = await brindle('lab', 'vm', 'add', '--host', 'compute-9');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /No such lab host: compute-9/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'one line, no stack trace');
  });

  it('fip add gives a VM a floating IP the outside host reaches; fip rm releases it', async () => {
    const s = JSON.parse((await brindle('lab', 'status', '-o', 'json')).stdout) as StatusJson;
    // The tenant lets ping in (the default group admits only its own members), as with
    // `openstack security group rule create --protocol icmp default`.
    const headers = { 'content-type': 'application/json', 'x-project-id': LAB_PROJECT };
    const groups = (await (await fetch(`${s.api}/v2.0/security-groups?name=default`, { headers })).json()) as { security_groups: { id: string }[] };
    const rule = await fetch(`${s.api}/v2.0/security-group-rules`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ security_group_rule: { security_group_id: groups.security_groups[0]?.id, direction: 'ingress', protocol: 'icmp' } }),
    });
    assert.equal(rule.status, 201);
    const r = await brindle('lab', 'fip', 'add', 'b', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const added = JSON.parse(r.stdout) as { vm: string; floatingIp: string; addresses: string[] };
    assert.equal(added.vm, 'b');
    assert.match(added.floatingIp, /^198\.18\.224\.\d+$/);
    const outside = s.border?.outside.netns ?? '';
    await untilPasses(
      async () => {
        const ping = await exec.run('ip', ['netns', 'exec', outside, 'ping', '-c', '1', '-W', '1', '-n', added.floatingIp]);
        assert.equal(ping.code, 0, `the outside host reaches b by its floating IP: ${ping.stdout}`);
      },
      { timeoutMs: 20_000 },
    );
    const shown = JSON.parse((await brindle('lab', 'status', '-o', 'json')).stdout) as StatusJson;
    assert.deepEqual(shown.vms.find((v) => v.name === 'b')?.floatingIps, [added.floatingIp]);
    assert.match((await brindle('lab', 'status')).stdout, new RegExp(`b  .*⇄ floating ${added.floatingIp.replaceAll('.', '\\.')}`), 'the picture shows it');
    const rm = await brindle('lab', 'fip', 'rm', 'b');
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, new RegExp(`released ${added.floatingIp.replaceAll('.', '\\.')}`));
    await untilPasses(
      async () => {
        const ping = await exec.run('ip', ['netns', 'exec', outside, 'ping', '-c', '1', '-W', '1', '-n', added.floatingIp]);
        assert.notEqual(ping.code, 0, 'released: the floating IP leads nowhere');
      },
      { timeoutMs: 10_000 },
    );
    const none = await brindle('lab', 'fip', 'add', 'nobody');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No such lab VM: nobody/);
  });

  it('Ctrl-C on lab up removes every namespace and process it made', async () => {
    const s = JSON.parse((await brindle('lab', 'status', '-o', 'json')).stdout) as StatusJson;
    up?.kill('SIGINT');
    const exit = await up?.exited;
    assert.equal(exit?.code, 0);
    const left = (await exec.run('ip', ['netns', 'list'])).stdout;
    for (const ns of [...s.hosts.map((h) => h.netns), s.border?.netns ?? '']) assert.ok(!left.includes(ns), `${ns} is gone`);
  });
});
