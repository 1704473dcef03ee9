import { BirdOutputError } from './errors.js';
import type { BirdReply } from './bird-reply.js';

/** What `show status` says. Times are as BIRD prints them (its `timeformat base`). */
export interface BirdStatus {
  readonly version: string;
  readonly routerId: string;
  readonly hostname?: string;
  readonly serverTime?: string;
  readonly lastReboot?: string;
  readonly lastReconfiguration?: string;
  /** The closing line: `Daemon is up and running`, `Reconfiguration in progress`, `Shutdown in progress`. */
  readonly message: string;
  /** Running and not shutting down (a reconfiguration in progress counts as up). */
  readonly up: boolean;
}

const FIELDS: readonly [RegExp, 'routerId' | 'hostname' | 'serverTime' | 'lastReboot' | 'lastReconfiguration'][] = [
  [/^Router ID is (\S+)$/, 'routerId'],
  [/^Hostname is (.+)$/, 'hostname'],
  [/^Current server time is (.+)$/, 'serverTime'],
  [/^Last reboot on (.+)$/, 'lastReboot'],
  [/^Last reconfiguration on (.+)$/, 'lastReconfiguration'],
];

/** Parses BIRD 2's reply to `show status`. */
export function parseBirdStatus(reply: BirdReply): BirdStatus {
  const found: Partial<Record<(typeof FIELDS)[number][1], string>> = {};
  let version: string | undefined;
  for (const { code, text } of reply.lines) {
    if (code === 1000) version = /^BIRD (\S+)$/.exec(text)?.[1] ?? version;
    for (const [re, key] of FIELDS) {
      const m = re.exec(text.trim());
      if (m?.[1] !== undefined) found[key] = m[1];
    }
  }
  const { routerId, ...times } = found;
  if (version === undefined || routerId === undefined) {
    throw new BirdOutputError('show status', `no ${version === undefined ? 'version (1000)' : 'router ID'} line`);
  }
  const message = reply.lines.at(-1)?.text ?? '';
  const up = reply.code === 13 && !/shut/i.test(message);
  return { version, routerId, ...times, message, up };
}
