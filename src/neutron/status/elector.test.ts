import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realClock, realFs, silentLogger } from '../../lib/index.js';
import { formatElectionValue } from '../../model/index.js';
import { eventually } from '../testing/index.js';
import { Elector } from './elector.js';

const fs = realFs();
const KEY = '/calico/openstack/v2/no-region/neutron_election';

describe('Elector (networking-calico election over a leased key)', () => {
  let dir: string;
  let kv: KvStore;
  before(async () => {
    dir = await fs.makeTempDir('brindle-elect-');
    kv = await openDatastore({ kind: 'embedded', path: dir });
  });
  after(async () => {
    await kv?.close();
    await fs.remove(dir);
  });

  function elector(name: string, pid: number, alive: (pid: number) => boolean = () => true): Elector & { changes: boolean[] } {
    const changes: boolean[] = [];
    const e = new Elector({
      kv,
      key: KEY,
      name,
      pid,
      clock: realClock(),
      logger: silentLogger(),
      ttlSeconds: 2,
      isProcessAlive: alive,
      onChange: (m) => changes.push(m),
    });
    return Object.assign(e, { changes });
  }

  it('exactly one of several is master; a graceful stop hands over at once', async () => {
    const a = elector('host-a', 1001);
    const b = elector('host-b', 1002);
    const c = elector('host-c', 1003);
    for (const e of [a, b, c]) e.start();
    try {
      await eventually(() => [a, b, c].filter((e) => e.isMaster).length === 1);
      const master = [a, b, c].find((e) => e.isMaster);
      assert.ok(master);
      // Facts, not a time: three refreshes of the master, one master at every look meanwhile.
      await eventually(() => {
        assert.equal([a, b, c].filter((e) => e.isMaster).length, 1, 'still one master');
        return master.stats.refreshes >= 3;
      });
      assert.match((await kv.get(KEY))?.value ?? '', /^host-[abc]:100[123]$/);
      assert.equal((await kv.get('/calico/openstack/v1/neutron_election'))?.value, (await kv.get(KEY))?.value, 'the legacy key too');
      const t0 = Date.now();
      await master.stop();
      await eventually(() => [a, b, c].filter((e) => e !== master && e.isMaster).length === 1);
      assert.ok(Date.now() - t0 < 1_500, 'took over without waiting for the lease to expire');
    } finally {
      for (const e of [a, b, c]) await e.stop();
    }
  });

  it('a key left by a dead process of this host is cleared at once', async () => {
    const lease = await kv.grantLease(60);
    await kv.put(KEY, formatElectionValue({ name: 'host-a', pid: 424242 }), { lease: lease.id });
    const a = elector('host-a', 1001, (pid) => pid !== 424242);
    a.start();
    try {
      await eventually(() => a.isMaster, 5_000);
      assert.equal((await kv.get(KEY))?.value, 'host-a:1001');
    } finally {
      await a.stop();
    }
  });

  it("another host's key is respected until its lease expires", async () => {
    const lease = await kv.grantLease(2);
    await kv.put(KEY, formatElectionValue({ name: 'host-z', pid: 7 }), { lease: lease.id });
    const a = elector('host-a', 1001);
    a.start();
    try {
      // The fact: it has seen the other host's key and waits on it (not a time).
      await eventually(() => a.stats.deferrals >= 1, 5_000);
      assert.equal(a.isMaster, false);
      await eventually(() => a.isMaster, 10_000);
    } finally {
      await a.stop();
    }
  });
});
