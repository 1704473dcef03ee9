import { pino, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The structured logger every module takes (a pino logger; JSON lines on stderr). */
export type Logger = PinoLogger;

export function createLogger(options: { level: LogLevel; name: string }): Logger {
  return pino({ name: options.name, level: options.level, base: { pid: process.pid } }, pino.destination(2));
}

/** A logger that drops everything (for tests and library callers that do not care). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
