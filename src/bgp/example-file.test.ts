// examples/bgp.yaml (the README's example) is valid Calico, and what it renders BIRD accepts.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validateResource, type BGPConfiguration, type BGPPeer } from '../model/index.js';
import { realExec, realFs } from '../lib/index.js';
import { projectRoot, trackTempDir, untrackTempDir } from '../lib/testing.js';
import { renderBirdConfig } from './render-bird-config.js';
import { calicoNode } from './testing/index.js';

const fs = realFs();

describe('examples/bgp.yaml', () => {
  let dir = '';
  after(async () => {
    if (dir !== '') {
      await fs.remove(dir);
      untrackTempDir(dir);
    }
  });

  it('validates, and renders reflector sessions and the border peers that bird -p accepts', async () => {
    const docs = parseAllDocuments(await fs.readText(join(projectRoot(), 'examples', 'bgp.yaml'))).map((d) => validateResource(d.toJS()));
    const configs = docs.filter((d): d is BGPConfiguration => d.kind === 'BGPConfiguration');
    const peers = docs.filter((d): d is BGPPeer => d.kind === 'BGPPeer');
    assert.equal(configs.length + peers.length, docs.length);
    const nodes = [
      calicoNode('rr-1', { ipv4Address: '198.19.0.100/24', ipv6Address: '2001:db8:ffff::100/64', routeReflectorClusterID: '224.0.0.1' }),
      calicoNode('compute-1', { ipv4Address: '198.19.0.1/24', ipv6Address: '2001:db8:ffff::1/64', labels: { rack: 'r1' } }),
      calicoNode('compute-2', { ipv4Address: '198.19.0.2/24', ipv6Address: '2001:db8:ffff::2/64', labels: { rack: 'r2' } }),
    ];
    const out = renderBirdConfig({ nodeName: 'compute-1', nodes, bgpConfigurations: configs, peers, interfacePrefixes: ['tap'] });
    assert.deepEqual(out.sessions.map((s) => `${s.type} ${s.peerIp} AS${s.peerAs}`).sort(), [
      'global 198.19.0.250 AS65000',
      'global 198.19.0.253 AS65101',
      'global 2001:db8:ffff::fa AS65000',
      'reflector 198.19.0.100 AS64512',
      'reflector 2001:db8:ffff::100 AS64512',
    ]);
    const other = renderBirdConfig({ nodeName: 'compute-2', nodes, bgpConfigurations: configs, peers, interfacePrefixes: ['tap'] });
    assert.ok(!other.sessions.some((s) => s.peerIp === '198.19.0.253'), 'the rack-1 switch peers only with rack r1');
    dir = await fs.makeTempDir('brindle-bgp-example-');
    trackTempDir(dir);
    await fs.writeTextAtomic(join(dir, 'bird.conf'), out.config);
    const check = await realExec().run('/usr/sbin/bird', ['-p', '-c', join(dir, 'bird.conf')]);
    assert.equal(check.code, 0, check.stderr);
  });
});
