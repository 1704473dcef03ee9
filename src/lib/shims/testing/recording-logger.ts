import { pino } from 'pino';
import type { Logger } from '../../logger.js';

/** One log line as a test sees it: pino's level name, the message and the fields. */
export interface LoggedLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A logger that keeps every line (debug and up) in `lines`, for tests that check what is logged. */
export function recordingLogger(): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = pino(
    { level: 'debug', formatters: { level: (label) => ({ level: label }) } },
    { write: (s: string) => void lines.push(JSON.parse(s) as LoggedLine) },
  );
  return { logger, lines };
}
