import { Command, Option } from 'commander';
import { netnsExec, parseDurationMs, startNodeAgent, type AgentIntervals } from '../../agent/index.js';
import { describeDatastore, openDatastore } from '../../datastore/index.js';
import { createLogger, realClock, realExec } from '../../lib/index.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { waitForStop } from '../wait-for-stop.js';
import { addSettingsOptions, parseListen, resolveSettings, type Env } from '../settings.js';

const SCOPE = { perHost: true } as const;

function seconds(opts: Record<string, unknown>, name: string, flag: string): number | undefined {
  const v = opts[name] as string | undefined;
  if (v === undefined) return undefined;
  try {
    return parseDurationMs(v, flag);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** `brindle node`: the per-host agent (Felix), until stopped. */
export function nodeCommand(deps: { io: CliIo; env: Env; signal?: AbortSignal }): Command {
  const cmd = new Command('node')
    .description('Run the per-host agent: routes, proxy ARP, iptables and ipsets for the VMs on this host, and their status')
    .addOption(new Option('--region <name>', 'OpenStack region (status keys under region-<name>) [env: BRINDLE_REGION]'))
    .addOption(new Option('--iptables-backend <backend>', 'iptables backend').choices(['auto', 'nft', 'legacy']).default('auto'))
    .option('--netns <name>', 'program the dataplane of this network namespace (the lab runs one agent per simulated host)')
    .option('--health-listen <host:port>', 'serve /liveness, /readiness and /metrics here')
    .option('--refresh-interval <duration>', 'read the kernel back and repair drift this often (default: FelixConfiguration iptablesRefreshInterval, else 90s)')
    .option('--report-interval <duration>', 'write the host status this often (default 30s)')
    .option('--report-ttl <duration>', 'lease of the host status key (default 90s)')
    .option('--interface-prefix <prefixes>', 'workload interface prefixes, comma separated (default: FelixConfiguration, else tap)');
  addSettingsOptions(cmd, SCOPE);
  cmd.action(async (opts: Record<string, unknown>) => {
    const settings = await resolveSettings(opts, deps.env, deps.io, SCOPE);
    const logger = createLogger({ level: settings.logLevel, name: 'brindle-node' });
    const health = opts['healthListen'] === undefined ? undefined : parseListen(opts['healthListen'] as string, '--health-listen');
    const region = (opts['region'] as string | undefined) ?? deps.env['BRINDLE_REGION'];
    const refreshMs = seconds(opts, 'refreshInterval', '--refresh-interval');
    const reportMs = seconds(opts, 'reportInterval', '--report-interval');
    const ttlMs = seconds(opts, 'reportTtl', '--report-ttl');
    const intervals: Partial<AgentIntervals> = {
      ...(refreshMs === undefined ? {} : { refreshMs }),
      ...(reportMs === undefined ? {} : { reportMs }),
      ...(ttlMs === undefined ? {} : { reportTtlSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) }),
    };
    const prefixes = (opts['interfacePrefix'] as string | undefined)?.split(',').filter((p) => p !== '');
    const netns = opts['netns'] as string | undefined;
    const kv = await openDatastore(settings.datastore);
    try {
      const agent = await startNodeAgent({
        kv,
        exec: netnsExec(realExec(), netns),
        clock: realClock(),
        hostname: settings.hostname,
        logger,
        iptablesBackend: opts['iptablesBackend'] as 'auto' | 'nft' | 'legacy',
        intervalOverrides: intervals,
        ...(prefixes === undefined ? {} : { configOverrides: { interfacePrefixes: prefixes } }),
        ...(region === undefined || region === '' ? {} : { region }),
        ...(health === undefined ? {} : { health }),
      });
      deps.io.err(`brindle node: host ${settings.hostname}${netns === undefined ? '' : ` (namespace ${netns})`}, datastore ${describeDatastore(settings.datastore)}${agent.healthUrl === undefined ? '' : `, health ${agent.healthUrl}`}\n`);
      await waitForStop(deps.signal);
      await agent.stop();
    } finally {
      await kv.close();
    }
  });
  return cmd;
}
