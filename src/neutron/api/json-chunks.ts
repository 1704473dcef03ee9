/** Items encoded per chunk of a streamed list. */
const STREAM_CHUNK = 1_000;

/**
 * The body `{"<collection>": [items], ...rest}` as chunks of about STREAM_CHUNK items: the
 * first bytes leave while the rest is encoded, and no single string holds the whole body (75 MB
 * at 100,000 ports). The same bytes `JSON.stringify` gives.
 */
export function* jsonChunks(collection: string, items: readonly unknown[], rest: Record<string, unknown>): Generator<string> {
  yield `{${JSON.stringify(collection)}:[`;
  for (let i = 0; i < items.length; i += STREAM_CHUNK) {
    const part = items
      .slice(i, i + STREAM_CHUNK)
      .map((item) => JSON.stringify(item))
      .join(',');
    yield i === 0 ? part : `,${part}`;
  }
  const tail = JSON.stringify(rest);
  yield tail === '{}' ? ']}' : `],${tail.slice(1)}`;
}
