import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBirdTranscript, type BirdReply } from './bird-reply.js';
import { SHOW_PROTOCOL_ACTIVE, SHOW_PROTOCOL_ESTABLISHED, SHOW_PROTOCOLS, SHOW_PROTOCOLS_ALL, SHOW_PROTOCOLS_REFUSED } from './captured-bird-output.js';
import { parseBirdProtocols } from './parse-bird-protocols.js';

function only(text: string): BirdReply {
  const replies = parseBirdTranscript(text);
  assert.equal(replies.length, 1);
  return replies[0] as BirdReply;
}

describe('parseBirdProtocols (BIRD 2.0.12, timeformat protocol iso long)', () => {
  it('show protocols all: rows, BGP details and channel route counts', () => {
    assert.deepEqual(parseBirdProtocols(only(SHOW_PROTOCOLS_ALL)), [
      { name: 'device1', proto: 'Device', table: '---', state: 'up', since: '2026-12-06 03:20:16', info: '', channels: [] },
      {
        name: 's4',
        proto: 'Static',
        table: 'master4',
        state: 'up',
        since: '2026-12-06 03:20:16',
        info: '',
        channels: [{ name: 'ipv4', state: 'UP', table: 'master4', imported: 1, exported: 0, preferred: 1 }],
      },
      {
        name: 'peer4',
        proto: 'BGP',
        table: '---',
        state: 'start',
        since: '2026-12-06 03:20:16',
        info: 'Idle',
        bgp: { state: 'Idle', neighborAddress: '198.18.9.1', neighborAs: 64513, localAs: 64512 },
        channels: [{ name: 'ipv4', state: 'DOWN', table: 'master4' }],
      },
      {
        name: 'peer6',
        proto: 'BGP',
        table: '---',
        state: 'start',
        since: '2026-12-06 03:20:16',
        info: 'Idle',
        bgp: { state: 'Idle', neighborAddress: '2001:db8::9', neighborAs: 64514, localAs: 64512 },
        channels: [{ name: 'ipv6', state: 'DOWN', table: 'master6' }],
      },
    ]);
  });

  it('show protocols: the continuation rows are protocols too', () => {
    const rows = parseBirdProtocols(only(SHOW_PROTOCOLS));
    assert.deepEqual(
      rows.map((p) => [p.name, p.proto, p.state, p.since, p.info]),
      [
        ['device1', 'Device', 'up', '2026-12-06 03:20:16', ''],
        ['s4', 'Static', 'up', '2026-12-06 03:20:16', ''],
        ['peer4', 'BGP', 'start', '2026-12-06 03:20:16', 'Idle'],
        ['peer6', 'BGP', 'start', '2026-12-06 03:20:16', 'Idle'],
      ],
    );
    assert.ok(rows.every((p) => p.bgp === undefined && p.channels.length === 0));
  });

  it('an established session: a name wider than the column, neighbor id, source address, routes', () => {
    const [p] = parseBirdProtocols(only(SHOW_PROTOCOL_ESTABLISHED));
    assert.deepEqual(p, {
      name: 'mesh_198_18_7_2',
      proto: 'BGP',
      table: '---',
      state: 'up',
      since: '2026-12-06 03:20:49',
      info: 'Established',
      bgp: { state: 'Established', neighborAddress: '198.18.7.2', neighborAs: 64512, localAs: 64512, neighborId: '198.18.7.2', sourceAddress: '198.18.7.1' },
      channels: [{ name: 'ipv4', state: 'UP', table: 'master4', imported: 1, exported: 1, preferred: 1 }],
    });
  });

  it('a session that lost its peer: the info column splits into state and last error', () => {
    const [p] = parseBirdProtocols(only(SHOW_PROTOCOL_ACTIVE));
    assert.equal(p?.info, 'Active');
    assert.equal(p?.infoDetail, 'Received: Administrative shutdown');
    assert.equal(p?.bgp?.lastError, 'Received: Administrative shutdown');
    assert.equal(p?.bgp?.state, 'Active');
    const refused = parseBirdProtocols(only(SHOW_PROTOCOLS_REFUSED)).find((r) => r.proto === 'BGP');
    assert.equal(refused?.info, 'Active');
    assert.equal(refused?.infoDetail, 'Socket: Connection refused');
  });

  it('other time formats and filtered counts', () => {
    const text = [
      '2002-Name       Proto      Table      State  Since         Info',
      '1002-k4         Kernel     master4    up     03:20:16.123  ',
      '1006-  Channel ipv4',
      '     Routes:         5 imported, 2 filtered, 7 exported, 4 preferred',
      ' ',
      '0000 ',
    ].join('\n');
    const [k] = parseBirdProtocols(only(text));
    assert.equal(k?.since, '03:20:16.123');
    assert.deepEqual(k?.channels, [{ name: 'ipv4', imported: 5, filtered: 2, exported: 7, preferred: 4 }]);
  });
});
