// Golden files: each case of GOLDEN_CASES rendered and compared byte for byte with
// src/bgp/testdata/<case>.conf (BRINDLE_UPDATE_GOLDEN=1 rewrites them), then every golden file is
// parsed by the real BIRD (`bird -p -c`), which proves it is valid BIRD 2 configuration.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { realExec, realFs } from '../lib/index.js';
import { projectRoot } from '../lib/testing.js';
import { BgpNodeNotReadyError, renderBirdConfig } from './index.js';
import { calicoNode, GOLDEN_CASES } from './testing/index.js';

const fs = realFs();
const BIRD = '/usr/sbin/bird';

const goldenPath = (name: string): string => join(projectRoot(), 'src', 'bgp', 'testdata', `${name}.conf`);

describe('renderBirdConfig golden files', () => {
  for (const { name, input } of GOLDEN_CASES) {
    it(name, async () => {
      const { config } = renderBirdConfig(input);
      const path = goldenPath(name);
      if (process.env['BRINDLE_UPDATE_GOLDEN'] === '1') await fs.writeTextAtomic(path, config);
      assert.equal(config, await fs.readText(path), `${path} differs (BRINDLE_UPDATE_GOLDEN=1 rewrites it)`);
    });
  }
});

describe('bird -p accepts every golden file', () => {
  for (const { name } of GOLDEN_CASES) {
    it(name, { skip: fs.exists(BIRD) ? false : `${BIRD} is not installed` }, async () => {
      const result = await realExec().run(BIRD, ['-p', '-c', goldenPath(name)], { timeoutMs: 10_000 });
      assert.equal(result.code, 0, `bird -p rejected ${name}.conf: ${result.stderr}${result.stdout}`);
    });
  }
});

describe('renderBirdConfig', () => {
  it('renders byte-identical output whatever the order of its input', () => {
    for (const { input } of GOLDEN_CASES) {
      const shuffled = {
        ...input,
        nodes: [...input.nodes].reverse(),
        peers: [...input.peers].reverse(),
        bgpConfigurations: [...input.bgpConfigurations].reverse(),
      };
      const a = renderBirdConfig(input);
      const b = renderBirdConfig(shuffled);
      assert.equal(b.config, a.config);
      assert.deepEqual(b.sessions, a.sessions);
      assert.deepEqual(b.warnings, a.warnings);
    }
  });

  it('throws BgpNodeNotReadyError when this node is missing or has no address', () => {
    const base = { bgpConfigurations: [], peers: [], interfacePrefixes: ['tap'] };
    assert.throws(
      () => renderBirdConfig({ ...base, nodeName: 'ghost', nodes: [calicoNode('node-a', { ipv4Address: '10.0.0.1' })] }),
      (err: unknown) => err instanceof BgpNodeNotReadyError && err.code === 'BGP_NODE_NOT_READY' && err.recoverable,
    );
    assert.throws(() => renderBirdConfig({ ...base, nodeName: 'bare', nodes: [calicoNode('bare')] }), BgpNodeNotReadyError);
    assert.throws(() => renderBirdConfig({ ...base, nodeName: 'bad', nodes: [calicoNode('bad', { ipv4Address: 'nonsense' })] }), BgpNodeNotReadyError);
  });

  it('takes the IPv4 address as router id, else a stable hash of the node name', () => {
    const base = { bgpConfigurations: [], peers: [], interfacePrefixes: ['tap'] };
    assert.equal(renderBirdConfig({ ...base, nodeName: 'a', nodes: [calicoNode('a', { ipv4Address: '10.1.2.3/16' })] }).routerId, '10.1.2.3');
    const v6 = renderBirdConfig({ ...base, nodeName: 'v6-a', nodes: [calicoNode('v6-a', { ipv6Address: 'fd00::1' })] });
    // FNV-1 32-bit of "v6-a", big-endian.
    assert.match(v6.routerId, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(renderBirdConfig({ ...base, nodeName: 'v6-a', nodes: [calicoNode('v6-a', { ipv6Address: 'fd00::2' })] }).routerId, v6.routerId);
    assert.notEqual(renderBirdConfig({ ...base, nodeName: 'v6-b', nodes: [calicoNode('v6-b', { ipv6Address: 'fd00::1' })] }).routerId, v6.routerId);
    assert.ok(v6.config.includes(`router id ${v6.routerId};`));
  });
});
