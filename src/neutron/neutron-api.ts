import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ResourceClient, type KvStore } from '../datastore/index.js';
import { BrindleError, isLoopbackName, realClock, type Clock, type Logger } from '../lib/index.js';
import { openstackNamespace, regionString } from '../model/index.js';
import { noAuth, type Authenticator } from './api/auth.js';
import { buildApiServer } from './api/server.js';
import type { PolicySource } from './api/policy-enforcement.js';
import { NeutronStore } from './store/neutron-store.js';
import { createNeutronServices, type NeutronServices } from './service/neutron-services.js';
import { NO_PORT_EVENTS, NovaNotifier, type HttpPost, type NovaTokenSource } from './status/nova-notifier.js';
import { StatusReporter, type StatusReporterOptions } from './status/status-reporter.js';
import { NeutronCache } from './store/neutron-cache.js';
import { WriteThroughKv } from './store/write-through-kv.js';
import { resync, type ResyncResult } from './service/resync.js';

export interface NeutronApiOptions {
  readonly kv: KvStore;
  readonly listen: { readonly host: string; readonly port: number };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** OpenStack region (Calico namespace `openstack-region-<r>`); none means `openstack`. */
  readonly region?: string;
  /** The project of requests that name none (noauth). */
  readonly defaultProject?: string;
  /** noauth on anything but loopback must be asked for explicitly. */
  readonly allowNoauthOnAnyAddress?: boolean;
  readonly authenticator?: Authenticator;
  /** Neutron's policy with the operator's overrides (default: Neutron's defaults). */
  readonly policy?: PolicySource;
  /** Nova's API root (…/v2.1) to send port events to; none means no events. */
  readonly novaUrl?: string;
  /** The token port events carry to Nova: Brindle's Keystone service token under --auth keystone. */
  readonly novaToken?: NovaTokenSource;
  readonly novaPost?: HttpPost;
  /** Run the elected background work (status watchers). Default true. */
  readonly background?: boolean;
  /** Name in the election (default: the hostname given by the caller). */
  readonly electorName?: string;
  /** etcd compaction by the elected server (StatusReporterOptions.compaction). */
  readonly compaction?: StatusReporterOptions['compaction'];
  /** Repair the Calico resources from Neutron's objects at start-up (default true). */
  readonly startupResync?: boolean;
  /**
   * Also serve on this Unix socket (for local services in other network namespaces, such as the
   * lab's metadata services: a socket file is reachable where 127.0.0.1 is not). Its file mode
   * is the access control.
   */
  readonly socketPath?: string;
  /** Answer reads from a watch-fed cache of Neutron's objects (default true). */
  readonly cache?: boolean;
  /** Removes a stale socket file before listening (the fs seam). */
  readonly removeFile?: (path: string) => Promise<void>;
}

export interface RunningNeutronApi {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly services: NeutronServices;
  /** The start-up resync's outcome (undefined when it was not run). */
  readonly resyncDone: Promise<ResyncResult | undefined>;
  close(): Promise<void>;
}

export class NoauthExposedError extends BrindleError {
  constructor(host: string) {
    super('NEUTRON_NOAUTH_EXPOSED', `Refusing to serve without authentication on ${host}: anyone who can reach it would be admin`, {
      status: 400,
      hint: 'Listen on 127.0.0.1, or pass --allow-noauth-on-any-address if the network is trusted',
    });
  }
}

/** Throws NoauthExposedError for noauth beyond loopback unless it was asked for. */
export function refuseNoauthExposure(o: Pick<NeutronApiOptions, 'authenticator' | 'listen' | 'allowNoauthOnAnyAddress'>): void {
  if (o.authenticator === undefined && !isLoopbackName(o.listen.host) && o.allowNoauthOnAnyAddress !== true) throw new NoauthExposedError(o.listen.host);
}

/** Builds the services, starts the HTTP server and (unless disabled) the status reporter. */
export async function startNeutronApi(o: NeutronApiOptions): Promise<RunningNeutronApi> {
  refuseNoauthExposure(o);
  const clock = o.clock ?? realClock();
  // A watch-fed cache of Neutron's objects, written through by this server's transactions.
  const cache = o.cache === false ? undefined : new NeutronCache({ kv: o.kv, clock, logger: o.logger });
  cache?.start();
  const kv = cache === undefined ? o.kv : new WriteThroughKv(o.kv, cache);
  const deps = {
    kv,
    store: new NeutronStore(kv, cache),
    resources: new ResourceClient(kv, { clock }),
    clock,
    logger: o.logger,
    namespace: openstackNamespace(o.region),
    regionString: regionString(o.region),
    newId: randomUUID,
    random: Math.random,
  };
  const events =
    o.novaUrl === undefined
      ? NO_PORT_EVENTS
      : new NovaNotifier({
          url: o.novaUrl,
          clock,
          logger: o.logger,
          ...(o.novaToken === undefined ? {} : { token: o.novaToken }),
          ...(o.novaPost === undefined ? {} : { post: o.novaPost }),
        });
  const services = createNeutronServices(deps, events);
  const app = buildApiServer({
    services,
    auth: o.authenticator ?? noAuth(o.defaultProject ?? 'admin'),
    logger: o.logger,
    ...(o.policy === undefined ? {} : { policy: o.policy }),
  });
  try {
    await app.listen({ host: o.listen.host, port: o.listen.port });
  } catch (err) {
    await cache?.stop();
    throw err;
  }
  let unixServer: Server | undefined;
  if (o.socketPath !== undefined) {
    const path = o.socketPath;
    await o.removeFile?.(path);
    const server = createServer((req, res) => app.routing(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    unixServer = server;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : o.listen.port;
  const host = o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host;
  const reporter =
    o.background === false
      ? undefined
      : new StatusReporter({ services, electorName: o.electorName ?? 'brindle-api', ...(o.compaction === undefined ? {} : { compaction: o.compaction }) });
  reporter?.start();
  o.logger.info({ url: `http://${host}:${port}` }, 'Neutron API listening');
  const resyncDone =
    o.startupResync === false
      ? Promise.resolve(undefined)
      : resync(deps).then((r) => {
          if (r.ok) o.logger.info({ phases: r.phases, totalMs: r.totalMs }, 'start-up resync done');
          else o.logger.error({ error: r.error, phases: r.phases }, 'start-up resync failed; the API keeps serving');
          return r;
        });
  return {
    url: `http://${host}:${port}`,
    app,
    services,
    resyncDone,
    close: async () => {
      await resyncDone;
      await reporter?.stop();
      await app.close();
      await new Promise<void>((resolve) => (unixServer === undefined ? resolve() : unixServer.close(() => resolve())));
      await events.close();
      await cache?.stop();
    },
  };
}
