import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { realExec, realFs } from '../lib/index.js';
import { trackChild, trackNetns, trackTempDir, untrackTempDir } from '../lib/testing.js';
import { Lab } from './lab-topology.js';
import { listNetns } from './netns.js';
import { startResponder } from './probe.js';

const exec = realExec();
const fs = realFs();
const LAB_INDEX = new URL('./index.js', import.meta.url).href;
const LIB_INDEX = new URL('../lib/index.js', import.meta.url).href;

describe('`brindle lab down` from another process: Lab.destroyAll from the state file', () => {
  const prefixes = [Lab.randomPrefix(), Lab.randomPrefix()];
  let stateDir: string;

  before(async () => {
    stateDir = await fs.makeTempDir('brindle-lab-down-');
    trackTempDir(stateDir);
  });
  after(async () => {
    if (stateDir === undefined) return;
    for (const p of prefixes) {
      for (const n of await listNetns(exec, p)) trackNetns(n);
      await Lab.destroyByPrefix({ exec, fs, stateDir }, p);
    }
    await fs.remove(stateDir);
    untrackTempDir(stateDir);
  });

  it('removes every lab recorded in the state dir, the processes inside, a partial build and the state', async () => {
    const lab = await Lab.create({ exec, fs, stateDir, prefix: prefixes[0]! });
    await lab.addHost('compute1');
    await lab.addVm({
      host: 'compute1',
      name: 'vm1',
      portId: randomUUID(),
      mac: 'fa:16:3e:00:03:01',
      ips: [{ ip: '198.18.3.10', prefixLen: 24, gateway: '198.18.3.1' }],
    });
    const responder = await startResponder(lab, 'vm1', { tcp: [8080] });
    trackChild(responder.child);
    // A second lab whose build stopped half way: a namespace the state file does not list yet.
    const partial = await Lab.create({ exec, fs, stateDir, prefix: prefixes[1]! });
    await exec.run('ip', ['netns', 'add', `${prefixes[1]!}h9`]);
    for (const p of prefixes) for (const n of await listNetns(exec, p)) trackNetns(n);
    assert.deepEqual((await Lab.list({ fs, stateDir })).sort(), [...prefixes].sort());

    const script = `
      const { Lab } = await import(${JSON.stringify(LAB_INDEX)});
      const { realExec, realFs } = await import(${JSON.stringify(LIB_INDEX)});
      const removed = await Lab.destroyAll({ exec: realExec(), fs: realFs(), stateDir: ${JSON.stringify(stateDir)} });
      process.stdout.write(JSON.stringify(removed));`;
    const r = await exec.run(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const removed = JSON.parse(r.stdout) as string[];
    assert.deepEqual(removed.sort(), [`${prefixes[0]!}fab`, `${prefixes[0]!}h1`, `${prefixes[0]!}v1`, `${prefixes[1]!}fab`, `${prefixes[1]!}h9`].sort());
    for (const p of prefixes) assert.deepEqual(await listNetns(exec, p), []);
    // The responder inside the VM was stopped (it exits 0 on SIGTERM).
    assert.equal((await responder.child.exited).code, 0);
    assert.equal(fs.exists(lab.stateFile), false);
    assert.equal(fs.exists(partial.stateFile), false);
    assert.deepEqual(await Lab.list({ fs, stateDir }), []);
  });
});
