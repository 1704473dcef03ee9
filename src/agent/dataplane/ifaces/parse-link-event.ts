/** One line of `ip -o monitor link`: a link as it now is, or its deletion. */
export interface LinkEvent {
  readonly deleted: boolean;
  readonly index: number;
  /** The name without its `@peer` suffix. */
  readonly name: string;
  /** Admin up and carrier: flags UP and LOWER_UP. */
  readonly up: boolean;
  /** `link/ether` address, '' for links without one. */
  readonly mac: string;
}

// `[Deleted ]<index>: <name>[@<peer>]: <FLAG,FLAG,...> … [link/<type> <addr> …]`
const LINE_RE = /^(Deleted )?(\d+): ([^\s:@]+)(?:@[^\s:]+)?: <([^>]*)>/;
const ETHER_RE = /\slink\/ether ([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/;

/**
 * Parses one `ip -o monitor link` line; undefined when the line is not a link event this parser
 * understands (the caller then lists the links instead of guessing).
 */
export function parseLinkEvent(line: string): LinkEvent | undefined {
  const m = LINE_RE.exec(line);
  if (m === null) return undefined;
  const [, deleted, index, name, flags] = m;
  if (index === undefined || name === undefined || flags === undefined) return undefined;
  const set = new Set(flags.split(','));
  return {
    deleted: deleted !== undefined,
    index: Number(index),
    name,
    up: set.has('UP') && set.has('LOWER_UP'),
    mac: ETHER_RE.exec(line)?.[1] ?? '',
  };
}
