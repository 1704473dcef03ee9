import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { realFs } from '../../lib/index.js';
import { trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { runCli } from '../testing/run-cli.js';

describe('brindle node and brindle lab: bad command lines', () => {
  const cases: [string[], RegExp][] = [
    [['node', '--health-listen', 'nowhere', '--datastore', 'embedded:/nonexistent/brindle-test'], /--health-listen "nowhere" must be HOST:PORT/],
    [['node', '--refresh-interval', 'soon', '--datastore', 'embedded:/nonexistent/brindle-test'], /--refresh-interval "soon" is not a duration/],
    [['node', '--iptables-backend', 'ebpf'], /argument 'ebpf' is invalid/],
    [['lab', 'up', '--hosts', '0'], /--hosts must be 1-16, not 0/],
    [['lab', 'up', '--route-reflectors', '9'], /--route-reflectors must be 0-4, not 9/],
    [['node', '--bgp-only', '--no-bgp', '--datastore', 'embedded:/nonexistent/brindle-test'], /--bgp-only and --no-bgp leave nothing to run/],
    [['node', '--bgp-as', 'sixty', '--datastore', 'embedded:/nonexistent/brindle-test'], /--bgp-as must be an AS number/],
    [
      ['node', '--route-reflector-cluster-id', 'rr1', '--datastore', 'embedded:/nonexistent/brindle-test'],
      /--route-reflector-cluster-id must be an IPv4 address or a 32-bit number, not rr1/,
    ],
    [['lab', 'status', '--state-dir', '/nonexistent/brindle-lab-test'], /No lab is running/],
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

describe('brindle node: two hosts claiming one BGP address', () => {
  it('refuses to start, naming both nodes, exit 1', async () => {
    const fs = realFs();
    const dir = await fs.makeTempDir('brindle-node-clash-');
    trackTempDir(dir);
    try {
      const ds = `embedded:${join(dir, 'ds')}`;
      const node = 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: compute-1\nspec:\n  bgp:\n    ipv4Address: 198.18.0.1/24\n';
      const applied = await runCli(['ctl', 'apply', '-f', '-', '--datastore', ds], { stdin: node });
      assert.equal(applied.code, 0, applied.err);
      const r = await runCli([
        'node',
        '--bgp-only',
        '--hostname',
        'compute-2',
        '--bgp-address',
        '198.18.0.1/24',
        '--bgp-run-dir',
        join(dir, 'bird'),
        '--datastore',
        ds,
      ]);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /BGP address 198\.18\.0\.1 of node compute-2 is already claimed by node compute-1/);
      assert.match(r.err, /hint: give compute-2 another --bgp-address/);
      assert.equal(fs.exists(join(dir, 'bird', 'bird.pid')), false, 'no BIRD was started');
    } finally {
      await fs.remove(dir);
      untrackTempDir(dir);
    }
  });
});
