import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonChunks } from './json-chunks.js';

describe('jsonChunks: a long list as JSON in pieces', () => {
  const items = Array.from({ length: 2_345 }, (_, i) => ({ id: `p${i}`, name: i % 2 === 0 ? 'é "quoted"' : null, n: i }));

  it('gives the bytes JSON.stringify gives, with and without the rest of the body', () => {
    assert.equal([...jsonChunks('ports', items, {})].join(''), JSON.stringify({ ports: items }));
    const links = { ports_links: [{ rel: 'next', href: 'http://x/v2.0/ports?marker=p9' }] };
    assert.equal([...jsonChunks('ports', items, links)].join(''), JSON.stringify({ ports: items, ...links }));
    assert.equal([...jsonChunks('ports', [], {})].join(''), '{"ports":[]}');
  });

  it('encodes a chunk at a time', () => {
    assert.equal([...jsonChunks('ports', items, {})].length, 5, 'opening, three chunks of up to 1,000 items, closing');
  });
});
