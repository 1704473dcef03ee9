import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realExec } from './exec.js';

describe('realExec().run', () => {
  it('returns all of a large output, even with many children at once (exit can precede the last data)', async () => {
    const exec = realExec();
    const runs = await Promise.all(Array.from({ length: 16 }, () => exec.run('sh', ['-c', 'seq 1 100000; echo done >&2'])));
    for (const r of runs) {
      assert.equal(r.code, 0);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 100000);
      assert.equal(lines.at(-1), '100000');
      assert.equal(r.stderr, 'done\n');
    }
  });

  it('passes input, reports exit codes and a missing command', async () => {
    const exec = realExec();
    assert.equal((await exec.run('cat', [], { input: 'hello' })).stdout, 'hello');
    assert.equal((await exec.run('sh', ['-c', 'exit 3'])).code, 3);
    const missing = await exec.run('brindle-no-such-command', []);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /command not found/);
  });

  it('kills a child that outlives its timeout', async () => {
    const r = await realExec().run('sleep', ['10'], { timeoutMs: 100 });
    assert.equal(r.signal, 'SIGKILL');
  });
});
