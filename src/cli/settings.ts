import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDatastoreSpec, type DatastoreConfig } from '../datastore/index.js';
import { LOG_LEVELS, type LogLevel } from '../lib/index.js';
import { formatPath } from '../model/index.js';
import { ConfigFileError, UsageError } from './errors.js';
import type { CliIo } from './io.js';

/**
 * The settings every command shares. Each comes from, in order of precedence: its flag, its
 * BRINDLE_* environment variable, the config file (--config / BRINDLE_CONFIG, else
 * /etc/brindle/brindle.yaml if present), then the default.
 */
export interface Settings {
  readonly datastore: DatastoreConfig;
  /** Only for servers (commands declared with `server`). */
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  readonly hostname: string;
  readonly logLevel: LogLevel;
  /** Only for commands declared with `keystone`: Brindle's service user, as set (validated by the command). */
  readonly keystone: KeystoneSettings | undefined;
  /** Only for `brindle console`: its TLS files and local admin password, as set. */
  readonly console: ConsoleSettings | undefined;
}

/** `brindle console`'s own settings (`--tls-*`, `--admin-password` or `consoleAdminPassword` in the file). */
export interface ConsoleSettings {
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly adminPassword: string | undefined;
}

/** Brindle's service user in Keystone (`--keystone-*`): what validates callers' tokens. */
export interface KeystoneSettings {
  readonly url: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly project: string;
  readonly userDomain: string;
  readonly projectDomain: string;
  readonly cacheSeconds: number;
}

export const DEFAULT_CONFIG_FILE = '/etc/brindle/brindle.yaml';
export const DEFAULT_DATASTORE = 'embedded:/var/lib/brindle/datastore';

interface SettingDef {
  readonly flag: string;
  readonly key: keyof ConfigFile;
  readonly env: string;
  readonly help: string;
}

const DEFS: readonly SettingDef[] = [
  { flag: '--datastore <spec>', key: 'datastore', env: 'BRINDLE_DATASTORE', help: `embedded:PATH or etcd:URL[,URL...] (default ${DEFAULT_DATASTORE})` },
  { flag: '--etcd-ca-file <file>', key: 'etcdCaFile', env: 'BRINDLE_ETCD_CA_FILE', help: 'CA certificate to trust for https:// etcd endpoints' },
  { flag: '--etcd-cert-file <file>', key: 'etcdCertFile', env: 'BRINDLE_ETCD_CERT_FILE', help: 'client certificate for etcd (mutual TLS)' },
  { flag: '--etcd-key-file <file>', key: 'etcdKeyFile', env: 'BRINDLE_ETCD_KEY_FILE', help: 'client key for etcd (mutual TLS)' },
  { flag: '--etcd-username <name>', key: 'etcdUsername', env: 'BRINDLE_ETCD_USERNAME', help: 'etcd user (with --etcd-password)' },
  {
    flag: '--etcd-password <password>',
    key: 'etcdPassword',
    env: 'BRINDLE_ETCD_PASSWORD',
    help: 'etcd password (prefer the environment variable or config file)',
  },
  {
    flag: '--etcd-timeout <seconds>',
    key: 'etcdTimeout',
    env: 'BRINDLE_ETCD_TIMEOUT',
    help: 'deadline of each etcd call; a member that misses it is passed over (default 5)',
  },
  {
    flag: '--etcd-keepalive <seconds>',
    key: 'etcdKeepalive',
    env: 'BRINDLE_ETCD_KEEPALIVE',
    help: 'a watch quiet this long asks etcd for progress; silent twice as long, it moves to another member (default 10)',
  },
  { flag: '--log-level <level>', key: 'logLevel', env: 'BRINDLE_LOG_LEVEL', help: `${LOG_LEVELS.join('|')} (default info)` },
];
const SERVER_DEF: SettingDef = { flag: '--listen <host:port>', key: 'listen', env: 'BRINDLE_LISTEN', help: 'address to serve on' };
const KEYSTONE_DEFS: readonly SettingDef[] = [
  {
    flag: '--keystone-url <url>',
    key: 'keystoneUrl',
    env: 'BRINDLE_KEYSTONE_URL',
    help: 'Keystone identity v3 root, e.g. http://controller:5000/v3 (--auth keystone)',
  },
  { flag: '--keystone-username <name>', key: 'keystoneUsername', env: 'BRINDLE_KEYSTONE_USERNAME', help: "Brindle's service user in Keystone" },
  {
    flag: '--keystone-password <password>',
    key: 'keystonePassword',
    env: 'BRINDLE_KEYSTONE_PASSWORD',
    help: "the service user's password (prefer the environment variable or config file)",
  },
  { flag: '--keystone-project <name>', key: 'keystoneProject', env: 'BRINDLE_KEYSTONE_PROJECT', help: "the service user's project (default service)" },
  {
    flag: '--keystone-user-domain <name>',
    key: 'keystoneUserDomain',
    env: 'BRINDLE_KEYSTONE_USER_DOMAIN',
    help: "the service user's domain (default Default)",
  },
  {
    flag: '--keystone-project-domain <name>',
    key: 'keystoneProjectDomain',
    env: 'BRINDLE_KEYSTONE_PROJECT_DOMAIN',
    help: "the project's domain (default Default)",
  },
  {
    flag: '--keystone-cache-seconds <seconds>',
    key: 'keystoneCacheSeconds',
    env: 'BRINDLE_KEYSTONE_CACHE_SECONDS',
    help: 'how long a validated token is trusted before Keystone is asked again; a revoked token works at most this long (default 300)',
  },
];
const CONSOLE_DEFS: readonly SettingDef[] = [
  { flag: '--tls-cert <file>', key: 'consoleTlsCert', env: 'BRINDLE_CONSOLE_TLS_CERT', help: 'serve HTTPS with this certificate (PEM; needed off loopback)' },
  { flag: '--tls-key <file>', key: 'consoleTlsKey', env: 'BRINDLE_CONSOLE_TLS_KEY', help: "the certificate's private key (PEM)" },
  {
    flag: '--admin-password <password>',
    key: 'consoleAdminPassword',
    env: 'BRINDLE_CONSOLE_ADMIN_PASSWORD',
    help: 'the local admin password when Keystone is not configured (prefer the config file)',
  },
];
const HOST_DEF: SettingDef = {
  flag: '--hostname <name>',
  key: 'hostname',
  env: 'BRINDLE_HOSTNAME',
  help: "this host's name (default: the machine's hostname)",
};

const configFileSchema = z.strictObject({
  datastore: z.string().optional(),
  etcdCaFile: z.string().optional(),
  etcdCertFile: z.string().optional(),
  etcdKeyFile: z.string().optional(),
  etcdUsername: z.string().optional(),
  etcdPassword: z.string().optional(),
  etcdTimeout: z.union([z.string(), z.number()]).transform(String).optional(),
  etcdKeepalive: z.union([z.string(), z.number()]).transform(String).optional(),
  listen: z.string().optional(),
  hostname: z.string().optional(),
  logLevel: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]).optional(),
  keystoneUrl: z.string().optional(),
  keystoneUsername: z.string().optional(),
  keystonePassword: z.string().optional(),
  keystoneProject: z.string().optional(),
  keystoneUserDomain: z.string().optional(),
  keystoneProjectDomain: z.string().optional(),
  keystoneCacheSeconds: z.union([z.string(), z.number()]).transform(String).optional(),
  consoleTlsCert: z.string().optional(),
  consoleTlsKey: z.string().optional(),
  consoleAdminPassword: z.string().optional(),
});
type ConfigFile = z.output<typeof configFileSchema>;

/** A positive number of seconds from a flag, variable or file, as milliseconds. */
function secondsToMs(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 86_400)
    throw new UsageError(`${flag} ${JSON.stringify(text)} must be a number of seconds (0 < s ≤ 86400)`);
  return Math.round(n * 1_000);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function camel(flag: string): string {
  const name = flag.split(' ')[0]?.replace(/^--/, '') ?? '';
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export interface SettingsScope {
  /** Adds --listen (for servers), with this default address. */
  readonly server?: { readonly defaultListen: string };
  /** Adds --hostname (for per-host processes). */
  readonly perHost?: boolean;
  /** Adds the --keystone-* flags (for servers that validate Keystone tokens). */
  readonly keystone?: boolean;
  /** Adds the console's --tls-cert, --tls-key and --admin-password. */
  readonly console?: boolean;
}

/** Declares the shared flags on a command (with their environment variables in --help). */
export function addSettingsOptions(cmd: Command, scope: SettingsScope = {}): Command {
  const defs = [
    ...DEFS,
    ...(scope.server ? [SERVER_DEF] : []),
    ...(scope.perHost ? [HOST_DEF] : []),
    ...(scope.keystone === true ? KEYSTONE_DEFS : []),
    ...(scope.console === true ? CONSOLE_DEFS : []),
  ];
  cmd.addOption(new Option('--config <file>', `config file (YAML; default ${DEFAULT_CONFIG_FILE} if present) [env: BRINDLE_CONFIG]`));
  for (const d of defs) cmd.addOption(new Option(d.flag, `${d.help} [env: ${d.env}]`));
  return cmd;
}

/**
 * A command's options merged with its ancestors' (the global flags), the nearest one given
 * winning: `brindle --datastore A ctl apply --datastore B` uses B. (commander's own
 * `optsWithGlobals` lets the outermost win.)
 */
export function optionsWithGlobals(cmd: Command): Record<string, unknown> {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) for (const [k, v] of Object.entries(c.opts())) if (v !== undefined) merged[k] = v;
  return merged;
}

export function parseListen(text: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535) throw new UsageError(`${flag} ${JSON.stringify(text)} must be HOST:PORT`);
  return { host: m[1] ?? m[2] ?? '', port };
}

async function loadConfigFile(path: string | undefined, io: CliIo): Promise<ConfigFile> {
  const explicit = path !== undefined;
  const file = path ?? DEFAULT_CONFIG_FILE;
  if (!explicit && !io.fileExists(file)) return {};
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (err) {
    throw new ConfigFileError(file, 'cannot be read', err);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigFileError(file, err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err), err);
  }
  const r = configFileSchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigFileError(file, `${formatPath(issue?.path ?? []) || '(top level)'}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

export type Env = Readonly<Record<string, string | undefined>>;

const ENV_OF = new Map([...DEFS, SERVER_DEF, HOST_DEF, ...KEYSTONE_DEFS, ...CONSOLE_DEFS].map((d) => [d.key, d.env] as const));

/** Resolves the settings from a command's parsed options: flag, then environment, then file, then default. */
export async function resolveSettings(opts: Record<string, unknown>, env: Env, io: CliIo, scope: SettingsScope = {}): Promise<Settings> {
  const configPath = (opts['config'] as string | undefined) ?? nonEmpty(env['BRINDLE_CONFIG']);
  const file = await loadConfigFile(configPath, io);
  const get = (key: keyof ConfigFile, flag: string): string | undefined => {
    const v = opts[camel(flag)];
    if (typeof v === 'string') return v;
    const e = nonEmpty(env[ENV_OF.get(key) ?? '']);
    return e ?? file[key];
  };
  const spec = get('datastore', '--datastore') ?? DEFAULT_DATASTORE;
  let datastore = parseDatastoreSpec(spec);
  if (datastore.kind === 'etcd') {
    const extra: Record<string, string> = {};
    for (const [key, flag, field] of [
      ['etcdCaFile', '--etcd-ca-file', 'caFile'],
      ['etcdCertFile', '--etcd-cert-file', 'certFile'],
      ['etcdKeyFile', '--etcd-key-file', 'keyFile'],
      ['etcdUsername', '--etcd-username', 'username'],
      ['etcdPassword', '--etcd-password', 'password'],
    ] as const) {
      const v = get(key, flag);
      if (v !== undefined) extra[field] = v;
    }
    const timeout = get('etcdTimeout', '--etcd-timeout');
    const keepalive = get('etcdKeepalive', '--etcd-keepalive');
    datastore = {
      ...datastore,
      ...extra,
      ...(timeout === undefined ? {} : { callTimeoutMs: secondsToMs(timeout, '--etcd-timeout') }),
      ...(keepalive === undefined ? {} : { watchKeepaliveMs: secondsToMs(keepalive, '--etcd-keepalive') }),
    };
  }
  const level = get('logLevel', '--log-level') ?? 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  return {
    datastore,
    listen: scope.server === undefined ? undefined : parseListen(get('listen', '--listen') ?? scope.server.defaultListen),
    hostname: (scope.perHost ? get('hostname', '--hostname') : undefined) ?? io.hostname(),
    logLevel: level as LogLevel,
    keystone:
      scope.keystone === true
        ? {
            url: get('keystoneUrl', '--keystone-url'),
            username: get('keystoneUsername', '--keystone-username'),
            password: get('keystonePassword', '--keystone-password'),
            project: get('keystoneProject', '--keystone-project') ?? 'service',
            userDomain: get('keystoneUserDomain', '--keystone-user-domain') ?? 'Default',
            projectDomain: get('keystoneProjectDomain', '--keystone-project-domain') ?? 'Default',
            cacheSeconds: secondsToMs(get('keystoneCacheSeconds', '--keystone-cache-seconds') ?? '300', '--keystone-cache-seconds') / 1_000,
          }
        : undefined,
    console:
      scope.console === true
        ? {
            tlsCert: get('consoleTlsCert', '--tls-cert'),
            tlsKey: get('consoleTlsKey', '--tls-key'),
            adminPassword: get('consoleAdminPassword', '--admin-password'),
          }
        : undefined,
  };
}
