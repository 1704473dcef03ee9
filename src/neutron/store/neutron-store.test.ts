import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyValue, KvStore, ListResult } from '../../datastore/index.js';
import type { NeutronCache } from './neutron-cache.js';
import { NEUTRON_CHANGE_KEY } from './neutron-keys.js';
import { NeutronStore } from './neutron-store.js';

/** Where the store's reads went: the datastore's list, or the cache. Pure logic: both are stubs. */
function harness(): { store: NeutronStore; lists: string[]; mark: { revision: number }; cache: { revision: number; reaches: boolean } } {
  const lists: string[] = [];
  const mark = { revision: 10 };
  const cacheState = { revision: 5, reaches: false };
  const kv = {
    get: (key: string): Promise<KeyValue | undefined> =>
      Promise.resolve(key === NEUTRON_CHANGE_KEY ? { key, value: '', modRevision: mark.revision, createRevision: 1, version: 1, lease: undefined } : undefined),
    list: (prefix: string): Promise<ListResult> => {
      lists.push(prefix);
      return Promise.resolve({ items: [], revision: mark.revision });
    },
  } as unknown as KvStore;
  const cache = {
    ready: true,
    get revision() {
      return cacheState.revision;
    },
    reach: () => Promise.resolve(cacheState.reaches),
    values: () => [],
    sortedValues: () => [],
    get: () => undefined,
  } as unknown as NeutronCache;
  return { store: new NeutronStore(kv, cache), lists, mark, cache: cacheState };
}

describe('NeutronStore.sync', () => {
  it('reads the datastore while the cache is behind the last change, and the cache again once it has caught up', async () => {
    const h = harness();
    await h.store.sync(); // the cache (5) does not reach the last change (10) in time
    await h.store.list('ports');
    assert.equal(h.lists.length, 1, 'bypassed: listed from the datastore');
    h.cache.revision = 10; // caught up by the time of the next request
    await h.store.sync();
    await h.store.list('ports');
    assert.equal(h.lists.length, 1, 'from the cache again');
    h.mark.revision = 12;
    h.cache.reaches = true; // behind, but reaches it within the wait
    await h.store.sync();
    await h.store.list('ports');
    assert.equal(h.lists.length, 1, 'still the cache');
  });
});
