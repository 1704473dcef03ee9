// The endpoint status keys against a real (embedded) datastore: a whole first report that
// deletes keys of endpoints gone while the agent was down, then changes only, and a failed
// write kept for the next report.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realClock, realFs } from '../../lib/index.js';
import { trackTempDir } from '../../lib/testing.js';
import { felixEndpointStatusKey, felixHostPrefix } from '../../model/index.js';
import { StatusReporter } from './status-reporter.js';

const HOST = 'h1';
const ids = (n: number): { orchestrator: string; workload: string; endpoint: string } => ({
  orchestrator: 'openstack',
  workload: `wl-${n}`,
  endpoint: `ep-${n}`,
});
const key = (n: number): string => felixEndpointStatusKey('no-region', { host: HOST, ...ids(n) });

describe('StatusReporter: endpoint status keys', () => {
  const fs = realFs();
  let dir = '';
  let kv: KvStore;

  before(async () => {
    dir = await fs.makeTempDir('brindle-status-');
    trackTempDir(dir);
    kv = await openDatastore({ kind: 'embedded', path: dir });
  });
  after(async () => {
    await kv?.close();
    await fs.remove(dir);
  });

  const statuses = async (): Promise<Record<string, string>> => {
    const listed = await kv.list(`${felixHostPrefix('no-region')}${HOST}/workload/`);
    return Object.fromEntries(listed.items.map((i) => [i.key, (JSON.parse(i.value) as { status: string }).status]));
  };

  it('a first whole report deletes keys of endpoints that are gone, then changes write only themselves', async () => {
    await kv.put(key(9), '{"status":"up"}'); // left by an endpoint removed while the agent was down
    const r = new StatusReporter({ kv, clock: realClock(), hostname: HOST, regionStr: 'no-region' });
    assert.ok(
      await r.reportEndpoints([
        { ...ids(1), status: 'up' },
        { ...ids(2), status: 'down' },
      ]),
    );
    assert.deepEqual(await statuses(), { [key(1)]: 'up', [key(2)]: 'down' });
    const before = await kv.revision();
    assert.ok(
      await r.reportEndpointChanges([
        { ...ids(2), status: 'up' },
        { ...ids(1), status: undefined },
        { ...ids(3), status: 'down' },
      ]),
    );
    assert.deepEqual(await statuses(), { [key(2)]: 'up', [key(3)]: 'down' });
    const revs = (await kv.revision()) - before;
    assert.ok(revs >= 1 && revs <= 3, `one transaction for three changes (${revs} revisions)`);
    const again = await kv.revision();
    assert.ok(await r.reportEndpointChanges([{ ...ids(2), status: 'up' }]));
    assert.equal(await kv.revision(), again, 'a change to what is already written writes nothing');
  });

  it('a failed write stays pending and goes with the next report', async () => {
    let fail = true;
    const flaky: KvStore = new Proxy(kv, {
      get(target, prop, receiver) {
        if (prop === 'txn' && fail) return () => Promise.reject(new Error('datastore away'));
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = new StatusReporter({ kv: flaky, clock: realClock(), hostname: HOST, regionStr: 'no-region' });
    assert.ok(
      !(await r.reportEndpoints([
        { ...ids(2), status: 'up' },
        { ...ids(3), status: 'up' },
      ])),
    );
    assert.equal((await statuses())[key(3)], 'down', 'nothing written while the datastore refuses');
    fail = false;
    assert.ok(await r.reportEndpointChanges([]));
    assert.deepEqual(await statuses(), { [key(2)]: 'up', [key(3)]: 'up' });
  });
});
