import { realClock, realFs, type Clock, type Fs } from '../lib/index.js';
import { EmbeddedStore } from './embedded/embedded-store.js';
import { DatastoreConfigError } from './errors.js';
import { EtcdStore } from './etcd/etcd-store.js';
import type { KvStore } from './kv-store.js';

/** Where the datastore is and how to reach it (from --datastore and the etcd flags). */
export type DatastoreConfig =
  | { readonly kind: 'embedded'; readonly path: string; readonly durability?: 'full' | 'normal' }
  | {
      readonly kind: 'etcd';
      readonly endpoints: readonly string[];
      readonly caFile?: string;
      readonly certFile?: string;
      readonly keyFile?: string;
      readonly username?: string;
      readonly password?: string;
      /** Deadline of each call (EtcdStoreOptions.callTimeoutMs). */
      readonly callTimeoutMs?: number;
      /** Watch keepalive interval (EtcdStoreOptions.watchKeepaliveMs). */
      readonly watchKeepaliveMs?: number;
    };

const SYSTEM_CA = '/etc/ssl/certs/ca-certificates.crt';

/** Parses `embedded:PATH` or `etcd:URL[,URL...]`; throws DatastoreConfigError naming the problem. */
export function parseDatastoreSpec(spec: string): DatastoreConfig {
  const colon = spec.indexOf(':');
  const scheme = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  if (scheme === 'embedded') {
    if (rest === '') throw new DatastoreConfigError('embedded: needs a directory, as in embedded:/var/lib/brindle');
    return { kind: 'embedded', path: rest };
  }
  if (scheme === 'etcd') {
    const endpoints = rest
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (endpoints.length === 0) throw new DatastoreConfigError('etcd: needs at least one endpoint URL');
    for (const e of endpoints) {
      let url: URL;
      try {
        url = new URL(e);
      } catch (err) {
        throw new DatastoreConfigError(`${JSON.stringify(e)} is not a URL`, err);
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.port === '' || url.pathname.length > 1) {
        throw new DatastoreConfigError(`${JSON.stringify(e)} must be http(s)://HOST:PORT`);
      }
    }
    return { kind: 'etcd', endpoints };
  }
  throw new DatastoreConfigError(`unknown datastore ${JSON.stringify(scheme)}`);
}

/** A config as one line for logs and status output (password redacted). */
export function describeDatastore(config: DatastoreConfig): string {
  if (config.kind === 'embedded') return `embedded:${config.path}`;
  const auth = config.username === undefined ? '' : ` (user ${config.username})`;
  return `etcd:${config.endpoints.join(',')}${auth}`;
}

export interface OpenDatastoreDeps {
  readonly fs?: Fs;
  readonly clock?: Clock;
}

/** Opens the configured backend. TLS files are read here, so a bad path fails at start-up. */
export async function openDatastore(config: DatastoreConfig, deps: OpenDatastoreDeps = {}): Promise<KvStore> {
  const fs = deps.fs ?? realFs();
  if (config.kind === 'embedded') {
    return new EmbeddedStore({
      dir: config.path,
      fs,
      clock: deps.clock ?? realClock(),
      ...(config.durability === undefined ? {} : { durability: config.durability }),
    });
  }
  const read = async (what: string, path: string | undefined): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return Buffer.from(await fs.readText(path), 'utf8');
    } catch (err) {
      throw new DatastoreConfigError(`cannot read ${what} ${path}`, err);
    }
  };
  const https = config.endpoints.some((e) => e.startsWith('https:'));
  if (!https && (config.caFile ?? config.certFile ?? config.keyFile) !== undefined) {
    throw new DatastoreConfigError('etcd TLS files given but the endpoints are http://; use https://');
  }
  if ((config.certFile === undefined) !== (config.keyFile === undefined)) {
    throw new DatastoreConfigError('--etcd-cert-file and --etcd-key-file go together');
  }
  const ca = await read('CA file', config.caFile ?? (https ? SYSTEM_CA : undefined));
  const cert = await read('certificate file', config.certFile);
  const key = await read('key file', config.keyFile);
  return new EtcdStore({
    endpoints: config.endpoints,
    ...(https ? { tls: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } } : {}),
    ...(config.username === undefined ? {} : { username: config.username, password: config.password ?? '' }),
    ...(config.callTimeoutMs === undefined ? {} : { callTimeoutMs: config.callTimeoutMs }),
    ...(config.watchKeepaliveMs === undefined ? {} : { watchKeepaliveMs: config.watchKeepaliveMs }),
  });
}
