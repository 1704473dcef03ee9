import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realClock, realFs, silentLogger } from '../lib/index.js';
import { startDhcpWorker } from './dhcp-worker.js';
import { DhcpWorkerError } from './errors.js';

describe('startDhcpWorker', () => {
  it('a thread that cannot start its service rejects with DhcpWorkerError naming the failure', async () => {
    const fs = realFs();
    const dir = await fs.makeTempDir('brindle-dhcp-worker-');
    try {
      // A datastore path under a regular file cannot be opened.
      await fs.writeTextAtomic(`${dir}/file`, 'x');
      await assert.rejects(
        startDhcpWorker({
          clock: realClock(),
          logger: silentLogger(),
          data: {
            datastore: { kind: 'embedded', path: `${dir}/file/store` },
            logLevel: 'silent',
            hostname: 'h1',
            runDir: `${dir}/run`,
            interfacePrefix: 'tap',
            defaultDnsServers: [],
          },
        }),
        // The thread's own failure, carried over: not a crash of the thread or a module that did not load.
        (err: unknown) => err instanceof DhcpWorkerError && /^The DHCP worker failed: ENOTDIR: not a directory, mkdir '.*\/file\/store'$/.test(err.message),
      );
    } finally {
      await fs.remove(dir);
    }
  });
});
