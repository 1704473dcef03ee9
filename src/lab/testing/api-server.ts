import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { freePort } from '../../datastore/testing/index.js';
import { realExec, realFs, type ChildHandle } from '../../lib/index.js';
import { trackChild, trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { felixHostStatusKey } from '../../model/index.js';

const BRINDLE = fileURLToPath(new URL('../../../../bin/brindle', import.meta.url));

/** A real `brindle api` (the binary) on an embedded datastore in a temp dir, for lab tests. */
export interface LabTestApi {
  readonly url: string;
  readonly dir: string;
  readonly child: ChildHandle;
  /** Writes a leased Felix host status key for `host`, so Neutron binds ports there (no agent runs). */
  pretendAgentAlive(host: string): Promise<void>;
  /** Stops the server (by PID), closes the store and removes the temp dir. */
  stop(): Promise<void>;
}

export async function startLabTestApi(): Promise<LabTestApi> {
  const fs = realFs();
  const dir = await fs.makeTempDir('brindle-lab-api-');
  trackTempDir(dir);
  await fs.writeTextAtomic(join(dir, 'empty.yaml'), '');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', BRINDLE_CONFIG: join(dir, 'empty.yaml') };
  const child = realExec().spawn(
    BRINDLE,
    ['api', '--datastore', `embedded:${join(dir, 'db')}`, '--listen', `127.0.0.1:${port}`, '--no-status', '--log-level', 'warn'],
    { env },
  );
  trackChild(child);
  child.stdin.end();
  child.stdout.resume();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let kv: KvStore | undefined;
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await child.exited;
    await kv?.close();
    await fs.remove(dir);
    untrackTempDir(dir);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await fetch(`${url}/v2.0/networks`).catch(() => undefined);
    if (r?.status === 200) break;
    const exited = await Promise.race([child.exited, new Promise((res) => setTimeout(res, 50, undefined))]);
    if (exited !== undefined || Date.now() > deadline) {
      await stop();
      throw new Error(`brindle api did not come up: ${stderr.trim()}`);
    }
  }
  return {
    url,
    dir,
    child,
    pretendAgentAlive: async (host) => {
      kv ??= await openDatastore({ kind: 'embedded', path: join(dir, 'db') });
      const lease = await kv.grantLease(120);
      await kv.put(felixHostStatusKey('no-region', host), JSON.stringify({ time: new Date().toISOString(), uptime: 5, first_update: true }), {
        lease: lease.id,
      });
    },
    stop,
  };
}
