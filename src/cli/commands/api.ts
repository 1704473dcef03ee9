import { Command, Option } from 'commander';
import { describeDatastore, openDatastore } from '../../datastore/index.js';
import { createLogger, realClock, realFs } from '../../lib/index.js';
import { fetchHttp, KeystoneClient, keystoneAuth, refuseNoauthExposure, ReloadablePolicy, startNeutronApi, type Authenticator } from '../../neutron/index.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { apiWorkerIndex, leaveCluster, runApiWorkers } from './api-workers.js';
import { waitForStop } from '../wait-for-stop.js';
import { addSettingsOptions, optionsWithGlobals, resolveSettings, type Env, type KeystoneSettings } from '../settings.js';

function wholeNumber(value: unknown, flag: string): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(`${flag} ${JSON.stringify(value)} must be a whole number`);
  return n;
}

const SERVER = { server: { defaultListen: '127.0.0.1:9696' }, perHost: true, keystone: true } as const;

/** `--auth keystone`: the token validator from the --keystone-* settings (and the service token for Nova), or a usage error naming what is missing. */
export function keystoneAuthenticator(k: KeystoneSettings | undefined): { authenticator: Authenticator; serviceToken: (fresh: boolean) => Promise<string> } {
  const missing = [
    ['--keystone-url', k?.url],
    ['--keystone-username', k?.username],
    ['--keystone-password', k?.password],
  ].filter(([, v]) => v === undefined || v === '');
  if (k === undefined || k.url === undefined || k.username === undefined || k.password === undefined || missing.length > 0)
    throw new UsageError(`--auth keystone needs ${missing.map(([f]) => f).join(', ')} (or their BRINDLE_KEYSTONE_* variables or config file keys)`);
  let url: URL;
  try {
    url = new URL(k.url);
  } catch {
    throw new UsageError(`--keystone-url ${JSON.stringify(k.url)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--keystone-url ${JSON.stringify(k.url)} must be http:// or https://`);
  const clock = realClock();
  const client = new KeystoneClient(
    { authUrl: k.url, username: k.username, password: k.password, projectName: k.project, userDomainName: k.userDomain, projectDomainName: k.projectDomain },
    { http: fetchHttp, clock },
  );
  return { authenticator: keystoneAuth({ client, clock, cacheSeconds: k.cacheSeconds }), serviceToken: (fresh) => client.serviceToken(fresh) };
}

/** The process's SIGHUP, as a subscription (also keeps a stray SIGHUP from ending the server). */
function onHangup(listener: () => void): () => void {
  process.on('SIGHUP', listener);
  return () => process.off('SIGHUP', listener);
}

/** `brindle api`: the Neutron v2.0 API (networking-calico's driver inside), until stopped. */
export function apiCommand(deps: { io: CliIo; env: Env; signal?: AbortSignal }): Command {
  const cmd = new Command('api')
    .description('Serve the Neutron v2.0 API that Nova and the openstack CLI use, writing Calico resources')
    .addOption(new Option('--region <name>', 'OpenStack region (Calico namespace openstack-region-<name>) [env: BRINDLE_REGION]'))
    .addOption(
      new Option('--auth <strategy>', 'authentication: noauth, or Keystone tokens (with --keystone-*)').choices(['noauth', 'keystone']).default('noauth'),
    )
    .option('--noauth-default-project <id>', 'project for requests without X-Project-Id (noauth)', 'admin')
    .option('--allow-noauth-on-any-address', 'serve without authentication on a non-loopback address')
    .option('--nova-url <url>', "Nova's API root (…/v2.1) to send port events to [env: BRINDLE_NOVA_URL]")
    .option('--no-status', 'do not take part in the election that runs the agent status watchers')
    .option('--listen-socket <path>', 'also serve on this Unix socket (local services in other network namespaces, e.g. metadata)')
    .option('--etcd-compaction-period-mins <n>', 'the elected server requests etcd compaction this often (0 = never)', '60')
    .option('--etcd-compaction-min-revisions <n>', 'history etcd compaction always keeps', '1000')
    .option('--no-cache', 'read the datastore on every request instead of a watch-fed cache of Neutron objects')
    .option('--policy-file <path>', "rules over Neutron's default policy, in oslo.policy's YAML or JSON; read again on SIGHUP [env: BRINDLE_POLICY_FILE]")
    .option(
      '--workers <n>',
      'API worker processes sharing the port, each with its own datastore client (neutron-server api_workers) [env: BRINDLE_API_WORKERS]',
    );
  addSettingsOptions(cmd, SERVER);
  cmd.action(async (opts: Record<string, unknown>) => {
    const settings = await resolveSettings(optionsWithGlobals(cmd), deps.env, deps.io, SERVER);
    const region = (opts['region'] as string | undefined) ?? deps.env['BRINDLE_REGION'];
    const nova = (opts['novaUrl'] as string | undefined) ?? deps.env['BRINDLE_NOVA_URL'];
    const listen = settings.listen ?? { host: '127.0.0.1', port: 9696 };
    const workers = wholeNumber(opts['workers'] ?? deps.env['BRINDLE_API_WORKERS'] ?? '1', '--workers');
    if (workers < 1 || workers > 64) throw new UsageError(`--workers ${workers} must be between 1 and 64`);
    const compaction = {
      periodSeconds: wholeNumber(opts['etcdCompactionPeriodMins'], '--etcd-compaction-period-mins') * 60,
      minRevisions: wholeNumber(opts['etcdCompactionMinRevisions'], '--etcd-compaction-min-revisions'),
    };
    const allowNoauthOnAnyAddress = opts['allowNoauthOnAnyAddress'] === true;
    // Built (and checked) before any worker starts, so a bad setting is one message.
    const keystone = opts['auth'] === 'keystone' ? keystoneAuthenticator(settings.keystone) : undefined;
    const authenticator = keystone?.authenticator;
    // Checked here too, so a refusal is one message and not workers failing in a loop.
    refuseNoauthExposure({ listen, allowNoauthOnAnyAddress, ...(authenticator === undefined ? {} : { authenticator }) });
    // Read (and checked) before any worker starts: a bad rule is one message naming it.
    const policyFile = (opts['policyFile'] as string | undefined) ?? deps.env['BRINDLE_POLICY_FILE'];
    const policy = await ReloadablePolicy.load(realFs(), policyFile === '' ? undefined : policyFile).catch((err: unknown) => {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    });
    const workerIndex = apiWorkerIndex(deps.env);
    const socketPath = opts['listenSocket'] as string | undefined;
    if (workers > 1 && workerIndex === undefined) {
      // The primary: forks the workers (this same command) and holds no datastore client.
      const logger = createLogger({ level: settings.logLevel, name: 'brindle-api' });
      if (socketPath !== undefined) await realFs().remove(socketPath);
      deps.io.err(
        `brindle api: ${workers} workers serving http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port} (datastore ${describeDatastore(settings.datastore)})\n`,
      );
      await runApiWorkers({ count: workers, logger, stopped: waitForStop(deps.signal), hangups: onHangup });
      return;
    }
    // Worker 0 (or the only process) runs the background work and the start-up resync.
    const leadWorker = workerIndex === undefined || workerIndex === 0;
    const logger = createLogger({ level: settings.logLevel, name: workerIndex === undefined ? 'brindle-api' : `brindle-api-${workerIndex}` });
    const kv = await openDatastore(settings.datastore);
    try {
      const api = await startNeutronApi({
        kv,
        listen,
        logger,
        defaultProject: opts['noauthDefaultProject'] as string,
        allowNoauthOnAnyAddress,
        ...(authenticator === undefined ? {} : { authenticator }),
        policy,
        background: opts['status'] !== false && leadWorker,
        startupResync: leadWorker,
        electorName: settings.hostname,
        compaction,
        cache: opts['cache'] !== false,
        ...(region === undefined || region === '' ? {} : { region }),
        ...(nova === undefined || nova === '' ? {} : { novaUrl: nova, ...(keystone === undefined ? {} : { novaToken: keystone.serviceToken }) }),
        // A worker's socket is shared through the primary, which removed a stale file.
        ...(socketPath === undefined ? {} : { socketPath, ...(workerIndex === undefined ? { removeFile: (p: string) => realFs().remove(p) } : {}) }),
      });
      if (workerIndex === undefined) deps.io.err(`brindle api: serving ${api.url} (datastore ${describeDatastore(settings.datastore)})\n`);
      // SIGHUP reads the policy file again; a file that does not load leaves the policy in force.
      const unsubscribe = onHangup(() => {
        void policy.reload().then((r) => {
          if (r.ok) logger.info({ policyFile: policy.path ?? null, rules: r.rules }, 'policy reloaded');
          else logger.error({ policyFile: policy.path ?? null, err: r.error }, 'policy file not reloaded; the policy in force is unchanged');
        });
      });
      await waitForStop(deps.signal);
      unsubscribe();
      await api.close();
    } finally {
      await kv.close();
      leaveCluster();
    }
  });
  return cmd;
}
