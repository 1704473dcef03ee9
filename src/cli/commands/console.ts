import { Command, Option } from 'commander';
import { startConsole, refuseConsoleExposure, type ConsoleLogin } from '../../console/index.js';
import { describeDatastore, openDatastore } from '../../datastore/index.js';
import { createLogger, isLoopbackName } from '../../lib/index.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { waitForStop } from '../wait-for-stop.js';
import { addSettingsOptions, optionsWithGlobals, resolveSettings, type Env, type Settings } from '../settings.js';
import { keystoneAuthenticator } from './api.js';

const SCOPE = { server: { defaultListen: '127.0.0.1:9797' }, keystone: true, console: true } as const;

/** Who may log in: as asked, else nobody needs to on loopback, else Keystone admins when Keystone is set, else the local password. */
function loginOf(kind: string | undefined, settings: Settings, host: string): ConsoleLogin {
  const chosen = kind ?? (isLoopbackName(host) ? 'none' : settings.keystone?.url !== undefined ? 'keystone' : 'password');
  if (chosen === 'none') return { kind: 'none' };
  if (chosen === 'password') {
    const password = settings.console?.adminPassword;
    if (password === undefined || password.length < 12)
      throw new UsageError('--login password needs consoleAdminPassword in the config file (or --admin-password), at least 12 characters');
    return { kind: 'password', password };
  }
  const { authenticator } = keystoneAuthenticator(settings.keystone);
  return {
    kind: 'keystone',
    isAdminToken: async (token) => {
      try {
        return (await authenticator.authenticate({ 'x-auth-token': token })).isAdmin;
      } catch {
        return false;
      }
    },
  };
}

/** `brindle console`: the web console, until stopped. */
export function consoleCommand(deps: { io: CliIo; env: Env; signal?: AbortSignal }): Command {
  const cmd = new Command('console')
    .description('Serve the web console: BGP and pool settings, and a live view of hosts, sessions, networks and VMs')
    .addOption(
      new Option(
        '--login <kind>',
        'who may use it: none (loopback only), password, keystone (default: none on loopback, else keystone if --keystone-url is set, else password)',
      ).choices(['none', 'password', 'keystone']),
    )
    .addOption(new Option('--region <name>', "OpenStack region whose agents' reports count (as brindle node --region) [env: BRINDLE_REGION]"));
  addSettingsOptions(cmd, SCOPE);
  cmd.action(async (opts: Record<string, unknown>) => {
    const settings = await resolveSettings(optionsWithGlobals(cmd), deps.env, deps.io, SCOPE);
    const listen = settings.listen ?? { host: '127.0.0.1', port: 9797 };
    const login = loginOf(opts['login'] as string | undefined, settings, listen.host);
    const { tlsCert, tlsKey } = settings.console ?? { tlsCert: undefined, tlsKey: undefined };
    if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    const tls = tlsCert === undefined || tlsKey === undefined ? undefined : { cert: await deps.io.readFile(tlsCert), key: await deps.io.readFile(tlsKey) };
    try {
      refuseConsoleExposure({ listen, login, ...(tls === undefined ? {} : { tls }) });
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const logger = createLogger({ level: settings.logLevel, name: 'brindle-console' });
    const kv = await openDatastore(settings.datastore);
    try {
      deps.io.err(`brindle console: reading the datastore (${describeDatastore(settings.datastore)})\n`);
      const region = (opts['region'] as string | undefined) ?? deps.env['BRINDLE_REGION'];
      const running = await startConsole({
        kv,
        listen,
        login,
        logger,
        ...(tls === undefined ? {} : { tls }),
        ...(region === undefined || region === '' ? {} : { region }),
      });
      deps.io.err(`brindle console: serving ${running.url} (login: ${login.kind})\n`);
      await waitForStop(deps.signal);
      await running.close();
    } finally {
      await kv.close();
    }
  });
  return cmd;
}
