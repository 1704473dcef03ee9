import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { isRecoverable, realExec, realFs, type ChildHandle } from '../lib/index.js';
import { eventually, makeTestNetns, trackChild, trackTempDir, untrackTempDir, type TestNetns } from '../lib/testing.js';
import { BirdControl } from './bird-control.js';
import { BirdCommandError, BirdUnreachableError } from './errors.js';
import type { BirdProtocol } from './parse-bird-protocols.js';

// A real BIRD 2 (Debian's bird2), each in a network namespace of its own: the BGP neighbours
// below are unroutable there, so no connection attempt ever leaves the machine.

const fs = realFs();
const exec = realExec();
const BIRD = '/usr/sbin/bird';

/** The time formats production uses: what the parsers must read. */
const HEADER = 'log stderr all;\ntimeformat base iso long;\ntimeformat protocol iso long;\n';

function unreachablePeersConfig(route: string): string {
  return `${HEADER}router id 198.18.0.1;
protocol device {}
protocol static s4 { ipv4; route ${route} blackhole; }
protocol bgp peer4 { local as 64512; neighbor 198.18.9.1 as 64513; ipv4 { import all; export all; }; }
protocol bgp peer6 { local as 64512; neighbor 2001:db8::9 as 64514; ipv6 { import all; export all; }; }
`;
}

interface RunningBird {
  readonly sock: string;
  readonly conf: string;
  readonly child: ChildHandle;
  stop(): Promise<void>;
}

async function startBird(ns: TestNetns, dir: string, name: string, config: string): Promise<RunningBird> {
  const conf = join(dir, `${name}.conf`);
  const sock = join(dir, `${name}.ctl`);
  await fs.writeTextAtomic(conf, config);
  const child = exec.spawn('ip', ['netns', 'exec', ns.name, BIRD, '-f', '-c', conf, '-s', sock, '-P', join(dir, `${name}.pid`)]);
  trackChild(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  let exited = false;
  void child.exited.then(() => (exited = true));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await child.exited;
    clearTimeout(t);
  };
  try {
    await eventually(
      async () => {
        if (exited) throw new Error(`bird ${name} exited: ${stderr.trim()}`);
        try {
          (await BirdControl.connect(sock, { timeoutMs: 1_000 })).close();
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 15_000, what: `BIRD ${name} answering on ${sock}` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { sock, conf, child, stop };
}

describe('BirdControl against a real BIRD 2.0.12', () => {
  let ns: TestNetns | undefined;
  let dir: string;
  let bird: RunningBird | undefined;
  let bc: BirdControl;

  before(async () => {
    dir = await fs.makeTempDir('brindle-bird-');
    trackTempDir(dir);
    ns = await makeTestNetns('brtest');
    bird = await startBird(ns, dir, 'b1', unreachablePeersConfig('198.18.5.0/24'));
    bc = await BirdControl.connect(bird.sock);
  });
  after(async () => {
    bc?.close();
    await bird?.stop();
    await ns?.remove();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('reads the greeting and show status', async () => {
    assert.equal(bc.version, '2.0.12');
    const status = await bc.showStatus();
    assert.equal(status.version, '2.0.12');
    assert.equal(status.routerId, '198.18.0.1');
    assert.equal(status.up, true);
    assert.match(status.lastReboot ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'timeformat base iso long');
  });

  it('lists the BGP protocols, not established, with neighbour and AS', async () => {
    const protocols = await bc.showProtocols();
    assert.deepEqual(
      protocols.map((p) => `${p.name}/${p.proto}`),
      ['device1/Device', 's4/Static', 'peer4/BGP', 'peer6/BGP'],
    );
    const byName = new Map(protocols.map((p) => [p.name, p] as const));
    for (const [name, address, as, channel] of [
      ['peer4', '198.18.9.1', 64513, 'ipv4'],
      ['peer6', '2001:db8::9', 64514, 'ipv6'],
    ] as const) {
      const p = byName.get(name);
      assert.equal(p?.state, 'start', name);
      assert.match(p.info, /^(Idle|Connect|Active)$/, name);
      assert.match(p.since, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'timeformat protocol iso long');
      assert.equal(p.bgp?.state, p.info);
      assert.equal(p.bgp.neighborAddress, address);
      assert.equal(p.bgp.neighborAs, as);
      assert.equal(p.bgp.localAs, 64512);
      assert.deepEqual(
        p.channels.map((c) => [c.name, c.state]),
        [[channel, 'DOWN']],
      );
    }
    assert.equal(byName.get('s4')?.channels[0]?.imported, 1);
  });

  it('a command BIRD cannot parse, or fails to run, is a BirdCommandError; the connection carries on', async () => {
    await assert.rejects(bc.request('show bogus'), (err: unknown) => {
      assert.ok(err instanceof BirdCommandError);
      assert.equal(err.code, 'BGP_BIRD_COMMAND');
      assert.equal(err.birdCode, 9001);
      assert.match(err.message, /^BIRD rejected "show bogus": syntax error.*\(9001\)$/);
      return true;
    });
    await assert.rejects(bc.request('show route for 10.9.9.9'), { name: 'BirdCommandError', birdCode: 8001, birdText: 'Network not found' });
    await assert.rejects(bc.request('show status\nshow route'), BirdCommandError);
    assert.equal((await bc.showStatus()).routerId, '198.18.0.1');
  });

  it('queues concurrent requests and matches each reply to its command', async () => {
    const [status, protocols, route, bad, again] = await Promise.all([
      bc.showStatus(),
      bc.showProtocols(),
      bc.request('show route'),
      bc.request('nonsense').catch((e: unknown) => e),
      bc.request('show protocols s4'),
    ]);
    assert.equal(status.version, '2.0.12');
    assert.equal(protocols.length, 4);
    assert.ok(
      route.lines.some((l) => l.text.startsWith('198.18.5.0/24')),
      JSON.stringify(route.lines),
    );
    assert.ok(bad instanceof BirdCommandError);
    assert.equal(again.lines.filter((l) => l.code === 1002).length, 1);
  });

  it('configure: a broken file is refused with its position and the old one kept; a good one is taken', async () => {
    assert.ok(bird !== undefined);
    await fs.writeTextAtomic(bird.conf, `${unreachablePeersConfig('198.18.5.0/24')}protocol static broken { ipv4; route 198.18.6.0/24 blackhole\n}\n`);
    const refused = await bc.configure();
    assert.equal(refused.ok, false);
    assert.match(refused.message, /b1\.conf:\d+:\d+ syntax error/);
    assert.deepEqual(
      (await bc.showProtocols()).map((p) => p.name),
      ['device1', 's4', 'peer4', 'peer6'],
    );

    await fs.writeTextAtomic(bird.conf, unreachablePeersConfig('198.18.6.0/24'));
    assert.deepEqual(await bc.configure(), { ok: true, message: 'Reconfigured' });
    const routes = (await bc.request('show route')).lines.map((l) => l.text);
    assert.ok(
      routes.some((t) => t.startsWith('198.18.6.0/24')),
      routes.join('\n'),
    );
    assert.ok(!routes.some((t) => t.startsWith('198.18.5.0/24')), routes.join('\n'));
    assert.deepEqual(await bc.configure(), { ok: true, message: 'Reconfigured' });
  });

  it('no BIRD at a path, or one that never answers, is BirdUnreachableError (recoverable)', async () => {
    await assert.rejects(BirdControl.connect(join(dir, 'nobody.ctl')), (err: unknown) => {
      assert.ok(err instanceof BirdUnreachableError);
      assert.equal(err.code, 'BGP_BIRD_UNREACHABLE');
      assert.ok(isRecoverable(err));
      assert.match(err.message, /^Cannot reach BIRD at .*nobody\.ctl: no socket there$/);
      return true;
    });
    const silent: Server = createServer(() => {});
    const path = join(dir, 'silent.ctl');
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    try {
      await assert.rejects(BirdControl.connect(path, { timeoutMs: 200 }), /no reply to "\(greeting\)" in 200 ms/);
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('graceful restart: BIRD says so and exits; the client then fails as unreachable', async () => {
    assert.ok(bird !== undefined);
    assert.equal(await bc.gracefulRestart(), 'Graceful restart requested');
    const status = await Promise.race([bird.child.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    assert.notEqual(status, 'still running');
    await assert.rejects(bc.showStatus(), BirdUnreachableError);
  });
});

describe('BirdControl: two BIRDs on a veth pair reach Established (iBGP, AS 64512)', () => {
  const nss: TestNetns[] = [];
  const birds: RunningBird[] = [];
  const controls: BirdControl[] = [];
  let dir: string;

  const meshConfig = (me: number, peer: number): string => `${HEADER}router id 198.18.7.${me};
protocol device {}
protocol static s4 { ipv4; route 198.18.${20 + me}.0/24 blackhole; }
protocol bgp mesh_198_18_7_${peer} { local 198.18.7.${me} as 64512; neighbor 198.18.7.${peer} as 64512; ipv4 { import all; export all; }; }
`;

  before(async () => {
    dir = await fs.makeTempDir('brindle-bird-mesh-');
    trackTempDir(dir);
    for (let i = 0; i < 2; i++) nss.push(await makeTestNetns('brtest'));
    const [a, b] = nss as [TestNetns, TestNetns];
    const veth = await exec.run('ip', ['link', 'add', 'brt0', 'netns', a.name, 'type', 'veth', 'peer', 'name', 'brt0', 'netns', b.name]);
    assert.equal(veth.code, 0, veth.stderr);
    for (const [ns, me] of [
      [a, 1],
      [b, 2],
    ] as const) {
      await ns.must('ip', ['addr', 'add', `198.18.7.${me}/30`, 'dev', 'brt0']);
      await ns.must('ip', ['link', 'set', 'brt0', 'up']);
    }
    birds.push(await startBird(a, dir, 'a', meshConfig(1, 2)));
    birds.push(await startBird(b, dir, 'b', meshConfig(2, 1)));
    for (const bird of birds) controls.push(await BirdControl.connect(bird.sock));
  });
  after(async () => {
    for (const c of controls) c.close();
    for (const bird of birds) await bird.stop();
    for (const ns of nss) await ns.remove();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it("the session comes up, each side imports the other one's route, and goes Active when the peer stops", async () => {
    const [ca, cb] = controls as [BirdControl, BirdControl];
    const session = async (c: BirdControl): Promise<BirdProtocol | undefined> => (await c.showProtocols()).find((p) => p.proto === 'BGP');
    for (const [c, peer] of [
      [ca, '198.18.7.2'],
      [cb, '198.18.7.1'],
    ] as const) {
      await eventually(
        async () => {
          const p = await session(c);
          return p?.state === 'up' && p.info === 'Established' && p.bgp?.state === 'Established' && p.channels[0]?.imported === 1;
        },
        { timeoutMs: 60_000, what: `the session to ${peer} established` },
      );
      const p = await session(c);
      assert.equal(p?.bgp?.neighborAddress, peer);
      assert.equal(p?.bgp?.neighborId, peer);
      assert.equal(p?.bgp?.neighborAs, 64512);
      assert.equal(p?.channels[0]?.exported, 1);
    }
    await birds[1]?.stop();
    await eventually(
      async () => {
        const p = await session(ca);
        return p?.state === 'start' && /^(Idle|Connect|Active)$/.test(p.info) && p.infoDetail !== undefined;
      },
      { timeoutMs: 30_000, what: 'the session down, with a last error' },
    );
  });
});
