import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { netnsExec, realClock, realExec, realFs, silentLogger } from '../lib/index.js';
import { makeTestNetns, trackChild, trackTempDir, untrackTempDir, untilPasses, type TestNetns } from '../lib/testing.js';
import { BirdDaemon } from './bird-daemon.js';
import { BirdStartError } from './errors.js';

// A real BIRD, daemonized inside a namespace of its own (only loopback), driven as the agent does.

const fs = realFs();

function config(route: string): string {
  return `router id 198.18.0.1;
log stderr all;
timeformat protocol iso long;
protocol device {}
protocol static s4 { ipv4; route ${route} blackhole; }
`;
}

describe('BirdDaemon (real BIRD)', { timeout: 60_000 }, () => {
  let ns: TestNetns;
  let dir = '';
  let daemon: BirdDaemon;

  const make = (): BirdDaemon =>
    new BirdDaemon({ exec: netnsExec(realExec(), ns.name), fs, clock: realClock(), logger: silentLogger(), runDir: join(dir, 'bird') });

  before(async () => {
    ns = await makeTestNetns('brbd');
    dir = await fs.makeTempDir('brindle-bird-daemon-');
    trackTempDir(dir);
    daemon = make();
  });

  after(async () => {
    await daemon?.stop();
    await ns?.remove();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('starts BIRD on the first config, leaves an identical one alone, reconfigures a changed one', async () => {
    assert.deepEqual(await daemon.apply(config('198.18.5.0/24')), { result: 'started' });
    assert.ok((await daemon.pid()) !== undefined, 'BIRD wrote its pid file and runs');
    assert.deepEqual(await daemon.apply(config('198.18.5.0/24')), { result: 'unchanged' });
    assert.deepEqual(await daemon.apply(config('198.18.6.0/24')), { result: 'reconfigured' });
    const c = await daemon.connect();
    try {
      const routes = (await c.request('show route')).lines.map((l) => l.text).join('\n');
      assert.match(routes, /198\.18\.6\.0\/24/);
      assert.doesNotMatch(routes, /198\.18\.5\.0\/24/);
    } finally {
      c.close();
    }
  });

  it('a config bird -p refuses is reported and the running one stays, file and sessions', async () => {
    const before = await fs.readText(daemon.configPath);
    const out = await daemon.apply('router id 198.18.0.1;\nprotocol static { ipv4; route 198.18.7.0/24 blackhole }\n');
    assert.equal(out.result, 'rejected');
    assert.match(out.result === 'rejected' ? out.error : '', /BIRD rejected the new configuration.*syntax error/);
    assert.equal(await fs.readText(daemon.configPath), before, 'bird.conf untouched');
    const c = await daemon.connect();
    try {
      assert.ok(
        (await c.showProtocols()).some((p) => p.name === 's4' && p.state === 'up'),
        'the old protocols run',
      );
    } finally {
      c.close();
    }
  });

  it('BIRD killed: ensureRunning starts it again on the last good config', async () => {
    const pid = await daemon.pid();
    assert.ok(pid !== undefined);
    await realExec().run('kill', ['-KILL', String(pid)]);
    await untilPasses(async () => assert.equal(await daemon.answers(), false));
    assert.equal(await daemon.ensureRunning(), true);
    assert.notEqual(await daemon.pid(), pid);
    assert.equal(await daemon.ensureRunning(), false, 'nothing to do while it answers');
  });

  it('a new agent adopts the running BIRD: same config is not re-applied, nothing restarted', async () => {
    const pid = await daemon.pid();
    const adopted = make();
    assert.deepEqual(await adopted.apply(await fs.readText(daemon.configPath)), { result: 'unchanged' });
    assert.equal(await adopted.pid(), pid);
    assert.equal(adopted.starts, 0);
  });

  it('a live BIRD that does not answer (stopped, or busy) is neither killed nor doubled', async () => {
    const pid = await daemon.pid();
    assert.ok(pid !== undefined);
    await realExec().run('kill', ['-STOP', String(pid)]);
    try {
      assert.equal(await daemon.ensureRunning(), false, 'no restart within the grace time');
      await assert.rejects(daemon.apply(config('198.18.8.0/24')), BirdStartError);
      assert.equal(await daemon.pid(), pid);
    } finally {
      await realExec().run('kill', ['-CONT', String(pid)]);
    }
    await untilPasses(async () => assert.equal(await daemon.answers(), true));
  });

  it('a stale pid file naming another process: that process is never signalled', async () => {
    await daemon.stop();
    const sleeper = realExec().spawn('sleep', ['30']);
    trackChild(sleeper);
    try {
      await fs.writeTextAtomic(daemon.pidPath, `${sleeper.pid}\n`);
      assert.equal(await daemon.pid(), undefined, 'not our BIRD');
      assert.equal(await daemon.ensureRunning(), true, 'BIRD started again');
      assert.ok(fs.exists(`/proc/${sleeper.pid}`), 'the other process lives on');
      assert.notEqual(await daemon.pid(), sleeper.pid);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
