// The DHCP worker thread's entry: its own datastore connection, event loop and dnsmasq
// supervision, so the agent's dataplane work on the main thread never delays a VM's lease.
// Started by `startDhcpWorker`; not a module to import.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatastore } from '../datastore/index.js';
import { createLogger, describeError, netnsExec, realClock, realExec, realFs, type LogLevel } from '../lib/index.js';
import { startDhcpService, type DhcpService } from './dhcp-service.js';
import { dhcpWorkerDataSchema, type DhcpWorkerMessage } from './dhcp-worker-data.js';

const port = parentPort;
const send = (m: DhcpWorkerMessage): void => port?.postMessage(m);

async function main(): Promise<void> {
  const data = dhcpWorkerDataSchema.parse(workerData);
  const logger = createLogger({ level: data.logLevel as LogLevel, name: 'brindle-node' }).child({ component: 'dhcp' });
  const kv = await openDatastore(data.datastore);
  let service: DhcpService;
  try {
    service = await startDhcpService({
      kv,
      exec: netnsExec(realExec(), data.netns),
      fs: realFs(),
      clock: realClock(),
      logger,
      hostname: data.hostname,
      runDir: data.runDir,
      interfacePrefix: data.interfacePrefix,
      defaultDnsServers: data.defaultDnsServers,
      ...(data.region === undefined ? {} : { region: data.region }),
      ...(data.gatewayIface === undefined ? {} : { gatewayIface: data.gatewayIface }),
      ...(data.leaseSeconds === undefined ? {} : { leaseSeconds: data.leaseSeconds }),
      ...(data.domain === undefined ? {} : { domain: data.domain }),
      ...(data.checkIntervalMs === undefined ? {} : { checkIntervalMs: data.checkIntervalMs }),
    });
  } catch (err) {
    await kv.close();
    throw err;
  }
  send({ type: 'started', dnsmasqPid: await service.daemon.pid() });
  port?.on('message', (m: unknown) => {
    if ((m as { type?: string } | null)?.type !== 'stop') return;
    void (async () => {
      await service.stop().catch((err: unknown) => logger.warn({ err: describeError(err) }, 'stopping the DHCP service'));
      await kv.close().catch(() => undefined);
      send({ type: 'stopped' });
      port.close();
    })();
  });
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  port?.close();
});
