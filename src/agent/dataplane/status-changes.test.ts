import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusChanges, type EndpointStatusIds } from './status-changes.js';

const ids = (w: string): EndpointStatusIds => ({ orchestrator: 'openstack', workload: w, endpoint: `ep-${w}` });

describe('StatusChanges', () => {
  it('hands out only marked endpoints whose status differs from what it last gave', () => {
    const c = new StatusChanges();
    const now = new Map<string, { ids: EndpointStatusIds; status: 'up' | 'down' }>([['a', { ids: ids('a'), status: 'down' }]]);
    c.mark('a');
    assert.deepEqual(
      c.take((id) => now.get(id)),
      [{ ids: ids('a'), status: 'down' }],
    );
    c.mark('a');
    assert.deepEqual(
      c.take((id) => now.get(id)),
      [],
      'marked but the same',
    );
    now.set('a', { ids: ids('a'), status: 'up' });
    assert.deepEqual(
      c.take((id) => now.get(id)),
      [],
      'changed but not marked',
    );
    c.mark('a');
    assert.deepEqual(
      c.take((id) => now.get(id)),
      [{ ids: ids('a'), status: 'up' }],
    );
  });

  it('an endpoint gone is reported gone; new status ids mean gone under the old, new under the new', () => {
    const c = new StatusChanges();
    c.mark('a');
    c.take(() => ({ ids: ids('a'), status: 'up' }));
    c.mark('a');
    assert.deepEqual(
      c.take(() => ({ ids: ids('a2'), status: 'up' })),
      [
        { ids: ids('a'), status: undefined },
        { ids: ids('a2'), status: 'up' },
      ],
    );
    c.mark('a');
    assert.deepEqual(
      c.take(() => undefined),
      [{ ids: ids('a2'), status: undefined }],
    );
    c.mark('a');
    assert.deepEqual(
      c.take(() => undefined),
      [],
      'gone once',
    );
  });
});
