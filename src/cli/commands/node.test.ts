import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../testing/run-cli.js';

describe('brindle node and brindle lab: bad command lines', () => {
  const cases: [string[], RegExp][] = [
    [['node', '--health-listen', 'nowhere', '--datastore', 'embedded:/nonexistent/brindle-test'], /--health-listen "nowhere" must be HOST:PORT/],
    [['node', '--refresh-interval', 'soon', '--datastore', 'embedded:/nonexistent/brindle-test'], /--refresh-interval "soon" is not a duration/],
    [['node', '--iptables-backend', 'ebpf'], /argument 'ebpf' is invalid/],
    [['lab', 'up', '--hosts', '0'], /--hosts must be 1-16, not 0/],
  ];
  for (const [argv, message] of cases) {
    it(`${argv.join(' ')} → one line, exit 2`, async () => {
      const r = await runCli(argv);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    });
  }
});
