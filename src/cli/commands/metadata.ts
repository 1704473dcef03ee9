import { Command } from 'commander';
import { createLogger } from '../../lib/index.js';
import { startMetadataServer } from '../../metadata/index.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { waitForStop } from '../wait-for-stop.js';
import { addSettingsOptions, optionsWithGlobals, resolveSettings, type Env } from '../settings.js';

const SERVER = { server: { defaultListen: '127.0.0.1:8775' } } as const;

/** `brindle metadata`: the OpenStack metadata service for a compute host, until stopped. */
export function metadataCommand(deps: { io: CliIo; env: Env; signal?: AbortSignal }): Command {
  const cmd = new Command('metadata')
    .description(
      "Serve the OpenStack metadata documents to this host's VMs (what nova-api-metadata does), finding each VM by its source address through the Neutron API",
    )
    .option('--neutron-url <url>', 'the Neutron API root [env: BRINDLE_NEUTRON_URL]')
    .option('--neutron-socket <path>', 'reach the Neutron API on this Unix socket (brindle api --listen-socket) instead');
  addSettingsOptions(cmd, SERVER);
  cmd.action(async (opts: Record<string, unknown>) => {
    const settings = await resolveSettings(optionsWithGlobals(cmd), deps.env, deps.io, SERVER);
    const url = (opts['neutronUrl'] as string | undefined) ?? deps.env['BRINDLE_NEUTRON_URL'];
    const socketPath = opts['neutronSocket'] as string | undefined;
    if ((url === undefined) === (socketPath === undefined)) throw new UsageError('Give exactly one of --neutron-url and --neutron-socket');
    if (url !== undefined && !/^https?:\/\//.test(url)) throw new UsageError(`--neutron-url must be an http(s) URL, not ${url}`);
    const logger = createLogger({ level: settings.logLevel, name: 'brindle-metadata' });
    const server = await startMetadataServer({
      listen: settings.listen ?? { host: '127.0.0.1', port: 8775 },
      neutron: url !== undefined ? { url } : { socketPath: socketPath ?? '' },
      logger,
    });
    deps.io.err(`brindle metadata: serving ${server.url}\n`);
    await waitForStop(deps.signal);
    await server.close();
  });
  return cmd;
}
