import { join } from 'node:path';
import { freePort, realExec, realFs, type ChildHandle } from '../../lib/index.js';
import { trackChild, trackTempDir, untrackTempDir } from '../../lib/testing.js';
import type { DatastoreConfig } from '../open-datastore.js';

/** A real etcd (Debian's etcd-server) started for a test: loopback, random ports, a temp dir. */
export interface TestEtcd {
  readonly endpoint: string;
  readonly pid: number;
  readonly config: DatastoreConfig;
  /** Stops etcd by its PID (SIGTERM, then SIGKILL) and removes its data directory. */
  stop(): Promise<void>;
  /** Stops etcd but keeps its data, so `restart` can bring the same cluster back. */
  pause(): Promise<void>;
  restart(): Promise<void>;
}

export interface TestEtcdOptions {
  /** PEM files for a TLS listener: the server's certificate and key and the CA clients use. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string; readonly clientCertAuth?: boolean };
}

/** etcd's line once it serves clients (3.4 and 3.5 word it differently). */
export const ETCD_READY = /ready to serve client requests|serving client traffic/;

/** Waits for etcd's "ready" line; afterwards its output is drained, not kept. */
export async function waitForOutput(child: ChildHandle, pattern: RegExp, timeoutMs: number): Promise<void> {
  let seen = '';
  const onData = (d: Buffer): void => {
    seen = (seen + d.toString()).slice(-8000);
  };
  child.stderr.on('data', onData);
  child.stdout.on('data', onData);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (pattern.test(seen)) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
      setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`etcd did not become ready in ${timeoutMs} ms:\n${seen.slice(-2000)}`));
      }, timeoutMs).unref();
      void child.exited.then((s) => {
        clearInterval(timer);
        reject(new Error(`etcd exited (${s.code ?? s.signal}) before it was ready:\n${seen.slice(-2000)}`));
      });
    });
  } finally {
    child.stderr.off('data', onData);
    child.stdout.off('data', onData);
    child.stderr.resume();
    child.stdout.resume();
  }
}

export async function startTestEtcd(options: TestEtcdOptions = {}): Promise<TestEtcd> {
  const fs = realFs();
  const exec = realExec();
  const dataDir = await fs.makeTempDir('brindle-etcd-');
  trackTempDir(dataDir);
  const scheme = options.tls === undefined ? 'http' : 'https';
  let endpoint = '';
  let args: string[] = [];
  const choosePorts = async (): Promise<void> => {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    endpoint = `${scheme}://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    args = [
      '--name',
      'test',
      '--data-dir',
      join(dataDir, 'data'),
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `test=${peer}`,
      '--initial-cluster-state',
      'new',
      '--logger',
      'zap',
      '--log-level',
      'info',
      ...(options.tls === undefined
        ? []
        : [
            '--cert-file',
            options.tls.certFile,
            '--key-file',
            options.tls.keyFile,
            '--trusted-ca-file',
            options.tls.caFile,
            ...(options.tls.clientCertAuth === true ? ['--client-cert-auth'] : []),
          ]),
    ];
  };
  let child: ChildHandle | undefined;
  const launch = async (): Promise<void> => {
    const c = exec.spawn('etcd', args, { env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' } });
    child = c;
    trackChild(c);
    c.stdin.end();
    await waitForOutput(c, ETCD_READY, 20_000);
  };
  const halt = async (): Promise<void> => {
    const c = child;
    if (c === undefined) return;
    child = undefined;
    c.kill('SIGTERM');
    const killer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await c.exited;
    clearTimeout(killer);
  };
  // A port found free may be taken before etcd binds it (tests run in parallel): try again.
  for (let attempt = 1; ; attempt++) {
    await choosePorts();
    try {
      await launch();
      break;
    } catch (err) {
      await halt();
      if (attempt < 3 && /address already in use/i.test(String(err))) continue;
      await fs.remove(dataDir);
      untrackTempDir(dataDir);
      throw err;
    }
  }
  return {
    get endpoint() {
      return endpoint;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    get config(): DatastoreConfig {
      return { kind: 'etcd', endpoints: [endpoint], ...(options.tls === undefined ? {} : { caFile: options.tls.caFile }) };
    },
    stop: async () => {
      await halt();
      await fs.remove(dataDir);
      untrackTempDir(dataDir);
    },
    pause: halt,
    restart: launch,
  };
}
