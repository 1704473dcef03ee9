import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabPicture, type LabStatus } from './lab-status.js';

describe('formatLabPicture', () => {
  it('draws the outside, the border, the fabric and each host with its VMs and their floating IPs', () => {
    const s: LabStatus = {
      prefix: 'bl1-',
      api: 'http://127.0.0.1:1',
      datastore: 'embedded:/x',
      hosts: [
        { hostname: 'compute-1', role: 'compute', netns: 'bl1-h1', address: '198.19.0.1', address6: '2001:db8:ffff::1', birdSocket: '/x/bird.ctl' },
        { hostname: 'compute-2', role: 'compute', netns: 'bl1-h2', address: '198.19.0.2', address6: '2001:db8:ffff::2', birdSocket: '/y/bird.ctl' },
      ],
      vms: [
        { name: 'a', netns: 'bl1-v1', host: 'compute-1', port: 'p', addresses: ['198.18.0.10'], floatingIps: ['198.18.224.5'] },
        { name: 'b', netns: 'bl1-v2', host: 'compute-1', port: 'q', addresses: ['198.18.0.11'], floatingIps: [] },
        { name: 'c', netns: 'bl1-v3', host: 'compute-2', port: 'r', addresses: ['198.18.0.12'], floatingIps: [] },
      ],
      border: {
        netns: 'bl1-bd',
        address: '198.19.0.250',
        address6: '2001:db8:ffff::fa',
        asNumber: 65000,
        birdSocket: '/z',
        outside: { netns: 'bl1-out', address: '198.18.200.10', address6: '2001:db8:200::10' },
      },
    };
    assert.equal(
      formatLabPicture(s),
      [
        'outside 198.18.200.10  2001:db8:200::10',
        '   │',
        'border 198.19.0.250  AS 65000  (eBGP with every host)',
        '   │',
        '═══╧═══ fabric 198.19.0.0/24, 2001:db8:ffff::/64 ═══',
        '   ├── compute-1  198.19.0.1',
        '   │     ├── a  198.18.0.10  ⇄ floating 198.18.224.5',
        '   │     └── b  198.18.0.11',
        '   └── compute-2  198.19.0.2',
        '         └── c  198.18.0.12',
        '',
      ].join('\n'),
    );
  });
});
