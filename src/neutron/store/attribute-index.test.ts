import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AttributeIndex, indexValues } from './attribute-index.js';

describe('AttributeIndex: records by one attribute', () => {
  it('finds records by value, follows changes and deletes', () => {
    const idx = new AttributeIndex('device_id');
    idx.set('p1', { device_id: 'vm1' });
    idx.set('p2', { device_id: 'vm1' });
    idx.set('p3', { device_id: 'vm2' });
    assert.deepEqual([...idx.ids('vm1')].sort(), ['p1', 'p2']);
    idx.set('p2', { device_id: 'vm2' });
    assert.deepEqual([...idx.ids('vm1')], ['p1']);
    assert.deepEqual([...idx.ids('vm2')].sort(), ['p2', 'p3']);
    idx.remove('p1');
    assert.equal(idx.ids('vm1').size, 0);
    idx.remove('nothing');
  });

  it('indexes fixed_ips by each address, and skips values that are not strings', () => {
    assert.deepEqual(
      indexValues('fixed_ips', {
        fixed_ips: [
          { subnet_id: 's', ip_address: '198.18.0.5' },
          { subnet_id: 't', ip_address: '2001:db8::5' },
        ],
      }),
      ['198.18.0.5', '2001:db8::5'],
    );
    assert.deepEqual(indexValues('fixed_ips', { fixed_ips: 'no' }), []);
    assert.deepEqual(indexValues('device_id', { device_id: null }), []);
    assert.deepEqual(indexValues('device_id', 'not a record'), []);
  });
});
