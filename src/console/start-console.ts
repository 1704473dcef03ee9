import { fileURLToPath } from 'node:url';
import { Syncer, type KvStore } from '../datastore/index.js';
import { regionString } from '../model/index.js';
import { isLoopbackName, realClock, type Clock, type Logger } from '../lib/index.js';
import { ConsoleSessions, type ConsoleLogin } from './console-auth.js';
import { buildConsoleServer } from './console-server.js';
import { ConsoleState, consolePrefixes } from './console-state.js';
import { ConsoleExposedError } from './errors.js';

export interface ConsoleOptions {
  readonly kv: KvStore;
  readonly listen: { readonly host: string; readonly port: number };
  readonly login: ConsoleLogin;
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The built page; default: `public/` beside this file in dist. */
  readonly assetsDir?: string;
  /** How long to wait for the first full read of the datastore (default 60 s). */
  readonly syncTimeoutMs?: number;
  /** OpenStack region whose agents' status keys count (as `brindle node --region`). */
  readonly region?: string;
}

export interface RunningConsole {
  readonly url: string;
  readonly state: ConsoleState;
  close(): Promise<void>;
}

/** Refuses a console others can reach without TLS and a login. */
export function refuseConsoleExposure(o: Pick<ConsoleOptions, 'listen' | 'login' | 'tls'>): void {
  if (isLoopbackName(o.listen.host)) return;
  const missing = [
    o.tls === undefined ? 'TLS (--tls-cert, --tls-key)' : '',
    o.login.kind === 'none' ? 'a login (Keystone, or consoleAdminPassword)' : '',
  ].filter((m) => m !== '');
  if (missing.length > 0) throw new ConsoleExposedError(o.listen.host, missing.join(' and '));
}

/**
 * Starts the console: follows the datastore (one syncer over the prefixes the pages show),
 * waits for the first full read, then serves. Changes reach open pages as server-sent events.
 */
export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  refuseConsoleExposure(o);
  const clock = o.clock ?? realClock();
  const regionStr = regionString(o.region);
  const state = new ConsoleState(regionStr);
  const server = await buildConsoleServer({
    state,
    kv: o.kv,
    sessions: new ConsoleSessions(o.login, clock),
    logger: o.logger,
    clock,
    assetsDir: o.assetsDir ?? fileURLToPath(new URL('./public/', import.meta.url)),
    ...(o.tls === undefined ? {} : { tls: o.tls }),
  });
  const syncer = new Syncer({ kv: o.kv, prefixes: consolePrefixes(regionStr), onUpdates: (u) => server.notify(state.apply(u)), clock, logger: o.logger });
  syncer.start();
  try {
    const started = clock.monotonic();
    await syncer.waitInSync(o.syncTimeoutMs ?? 60_000);
    o.logger.info(
      { ms: Math.round(clock.monotonic() - started), endpoints: state.endpoints.size, hosts: state.nodes.size },
      'console in sync with the datastore',
    );
    await server.app.listen({ host: o.listen.host, port: o.listen.port });
  } catch (err) {
    await syncer.stop();
    await server.close();
    throw err;
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : o.listen.port;
  const host = o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host;
  const url = `${o.tls === undefined ? 'http' : 'https'}://${host}:${port}/`;
  o.logger.info({ url }, 'console listening');
  return {
    url,
    state,
    close: async () => {
      await syncer.stop();
      await server.close();
    },
  };
}
