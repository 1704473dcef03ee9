import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realFs } from '../../lib/index.js';
import { runCli } from '../testing/run-cli.js';

const fs = realFs();

function nodeStatus(name: string, node: string, status: Record<string, unknown> | undefined): string {
  return JSON.stringify({
    apiVersion: 'projectcalico.org/v3',
    kind: 'CalicoNodeStatus',
    metadata: { name },
    spec: { node, classes: ['Agent', 'BGP'], updatePeriodSeconds: 10 },
    ...(status === undefined ? {} : { status }),
  });
}

function bgpStatus(secondsAgo: number): Record<string, unknown> {
  return {
    lastUpdated: new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    agent: { birdV4: { state: 'Ready', version: '2.0.12', routerID: '198.19.0.1' } },
    bgp: {
      numberEstablishedV4: 1,
      numberEstablishedV6: 0,
      numberNotEstablishedV4: 0,
      numberNotEstablishedV6: 1,
      peersV4: [{ peerIP: '198.19.0.2', type: 'NodeMesh', state: 'Established', since: '2026-12-06 03:01:02', info: 'Established' }],
      peersV6: [{ peerIP: '2001:db8::2', type: 'RouteReflector', state: 'Connect', since: '2026-12-06 03:00:01', info: 'Connect' }],
    },
  };
}

describe('brindle ctl node status (in-process, embedded store)', () => {
  let dir: string;
  let ds: string;
  before(async () => {
    dir = await fs.makeTempDir('brindle-ctl-node-');
    ds = `embedded:${dir}`;
    const files = {
      'compute1.json': nodeStatus('compute1', 'compute1', bgpStatus(3)),
      'compute2.json': nodeStatus('status-of-compute2', 'compute2', bgpStatus(600)),
      'compute3.json': nodeStatus('compute3', 'compute3', undefined),
    };
    const applied = await runCli(['ctl', 'apply', '-f', 'compute1.json', 'compute2.json', 'compute3.json', '--datastore', ds], { files });
    assert.equal(applied.code, 0, applied.err);
  });
  after(async () => {
    await fs.remove(dir);
  });

  it('prints BIRD and the peers of the node named by --hostname', async () => {
    const r = await runCli(['ctl', 'node', 'status', '--hostname', 'compute1', '--datastore', ds]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const [first, ...rest] = r.out.split('\n');
    assert.match(first ?? '', /^Brindle node compute1: BIRD is running \(2\.0\.12, router id 198\.19\.0\.1\), status [3-9]s old$/);
    assert.equal(
      rest.join('\n'),
      [
        '',
        'IPv4 BGP status',
        '+--------------+-------------------+-------------+---------------------+-------------+',
        '| PEER ADDRESS |     PEER TYPE     |    STATE    |        SINCE        |    INFO     |',
        '+--------------+-------------------+-------------+---------------------+-------------+',
        '| 198.19.0.2   | node-to-node mesh | Established | 2026-12-06 03:01:02 | Established |',
        '+--------------+-------------------+-------------+---------------------+-------------+',
        '',
        'IPv6 BGP status',
        '+--------------+-----------------+---------+---------------------+---------+',
        '| PEER ADDRESS |    PEER TYPE    |  STATE  |        SINCE        |  INFO   |',
        '+--------------+-----------------+---------+---------------------+---------+',
        '| 2001:db8::2  | route reflector | Connect | 2026-12-06 03:00:01 | Connect |',
        '+--------------+-----------------+---------+---------------------+---------+',
        '',
      ].join('\n'),
    );
  });

  it('takes the node from BRINDLE_HOSTNAME; -o json prints the status', async () => {
    const r = await runCli(['ctl', 'node', 'status', '-o', 'json', '--datastore', ds], { env: { BRINDLE_HOSTNAME: 'compute1' } });
    assert.equal(r.code, 0, r.err);
    const status = JSON.parse(r.out) as { bgp: { numberEstablishedV4: number; peersV4: { peerIP: string }[] } };
    assert.equal(status.bgp.numberEstablishedV4, 1);
    assert.equal(status.bgp.peersV4[0]?.peerIP, '198.19.0.2');
  });

  it('finds a status by spec.node and warns when it is stale', async () => {
    const r = await runCli(['ctl', 'node', 'status', '--hostname', 'compute2', '--datastore', ds]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Brindle node compute2: BIRD is running .*, status 10m old\n/);
    assert.equal(r.err, 'warning: the status of node compute2 is 10m old, more than 3 × its update period of 10s: is brindle node still running there?\n');
  });

  it('no status (no resource, or one never filled in) is one line and exit 1', async () => {
    for (const argv of [[], ['--hostname', 'compute3']]) {
      const r = await runCli(['ctl', 'node', 'status', ...argv, '--datastore', ds]);
      const node = argv[1] ?? 'test-host';
      assert.equal(r.code, 1, r.err);
      assert.equal(r.err, `brindle: No status for node ${node}: is brindle node running there with BGP on?\n`);
      assert.equal(r.out, '');
    }
  });

  it('ctl get lists CalicoNodeStatus resources', async () => {
    const r = await runCli(['ctl', 'get', 'caliconodestatus', '--datastore', ds]);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      'NAME                 NODE       CLASSES\ncompute1             compute1   Agent,BGP\ncompute3             compute3   Agent,BGP\nstatus-of-compute2   compute2   Agent,BGP\n',
    );
    const one = await runCli(['ctl', 'get', 'cns', 'compute1', '-o', 'yaml', '--datastore', ds]);
    assert.match(one.out, /status:\n {2}lastUpdated:/);
  });
});
