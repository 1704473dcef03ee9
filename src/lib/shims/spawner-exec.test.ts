// The spawner runs real commands for us: output, input, exit status, many at once; if it dies,
// the commands in flight fail and the next one starts a new spawner.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnerExec } from './spawner-exec.js';

describe('spawnerExec: commands through a small long-lived process', () => {
  it('gives each command its own output, input and exit status, many at once', async () => {
    const exec = spawnerExec();
    try {
      const [a, b, c, d] = await Promise.all([
        exec.run('echo', ['one']),
        exec.run('cat', [], { input: 'two\nlines\n' }),
        exec.run('sh', ['-c', 'echo oops >&2; exit 3']),
        exec.run('no-such-command-brindle', []),
      ]);
      assert.deepEqual([a.code, a.stdout], [0, 'one\n']);
      assert.deepEqual([b.code, b.stdout], [0, 'two\nlines\n']);
      assert.deepEqual([c.code, c.stderr], [3, 'oops\n']);
      assert.notEqual(d.code, 0);
      const big = await exec.run('head', ['-c', '3000000', '/dev/zero']);
      assert.equal(big.stdout.length, 3_000_000, 'large output arrives whole');
    } finally {
      await exec.close();
    }
  });

  it('a spawner that dies fails the commands in flight; the next command starts another', async () => {
    const exec = spawnerExec();
    try {
      const pid = Number((await exec.run('sh', ['-c', 'echo $PPID'])).stdout.trim());
      assert.ok(pid > 0);
      const inFlight = exec.run('sleep', ['1']); // orphaned when its spawner dies: short
      process.kill(pid, 'SIGKILL');
      const r = await inFlight;
      assert.equal(r.code, null);
      assert.match(r.stderr, /spawner exited/);
      const again = await exec.run('echo', ['back']);
      assert.equal(again.stdout, 'back\n');
      assert.notEqual(Number((await exec.run('sh', ['-c', 'echo $PPID'])).stdout.trim()), pid, 'a new spawner');
    } finally {
      await exec.close();
    }
  });
});
