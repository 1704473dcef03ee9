import { silentLogger, type Exec, type Logger, type RunResult } from '../../../lib/index.js';
import { SysctlReadError, SysctlSpecError, SysctlWriteError } from './errors.js';

export interface SysctlDriverOptions {
  readonly exec: Exec;
  readonly logger?: Logger;
  readonly timeoutMs?: number;
}

export interface IfaceSysctlOptions {
  /** Also enable IPv6 forwarding and proxy NDP (accept_ra=0 is written regardless). */
  readonly ipv6: boolean;
  /** rp_filter for the interface; default: the host's net.ipv4.conf.default.rp_filter. */
  readonly rpFilter?: number;
}

/** A key in slash form (interface names may contain dots), its value, and how a failure counts. */
interface Setting {
  readonly key: string;
  readonly value: string;
  /** 'error': the call fails; 'warn': logged only; 'absent-ok': ignored when the key is missing. */
  readonly onFail: 'error' | 'warn' | 'absent-ok';
}

/**
 * Linux interface names: 1–15 bytes without '/', ':' or whitespace, never '.' or '..'; '=' would
 * break `k = v`, and `*?[]` would be globs to `sysctl -p`.
 */
const IFACE_NAME = /^[^/\s:=*?[\]]{1,15}$/;
/**
 * Interfaces per `sysctl -p -` call. The settings go on stdin (no ARG_MAX limit); one call per
 * 1,000 interfaces keeps each within its timeout on a busy host (5,000 taps: 40,000 keys, about
 * 1.5 s in one call).
 */
const BATCH = 1_000;

/** Felix's per-interface settings (reference §3.2). */
function ifaceSettings(iface: string, ipv6: boolean, rpFilter: number): Setting[] {
  const v4 = `net/ipv4/conf/${iface}`;
  const v6 = `net/ipv6/conf/${iface}`;
  const settings: Setting[] = [
    { key: `${v6}/accept_ra`, value: '0', onFail: ipv6 ? 'error' : 'absent-ok' },
    { key: `${v4}/route_localnet`, value: '1', onFail: 'error' },
    { key: `net/ipv4/neigh/${iface}/proxy_delay`, value: '0', onFail: 'warn' },
    { key: `${v4}/proxy_arp`, value: '1', onFail: 'error' },
    { key: `${v4}/forwarding`, value: '1', onFail: 'error' },
    { key: `${v4}/rp_filter`, value: String(rpFilter), onFail: 'error' },
  ];
  if (ipv6) settings.push({ key: `${v6}/proxy_ndp`, value: '1', onFail: 'error' }, { key: `${v6}/forwarding`, value: '1', onFail: 'error' });
  return settings;
}

/**
 * Writes the forwarding sysctls (global and per workload interface, as Felix does) with one
 * `sysctl -p -` call per operation (settings on stdin), and remembers which interfaces are done
 * so an interface is configured once per time it comes up (`forget` it when it goes down or away).
 */
export class SysctlDriver {
  readonly #exec: Exec;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  /** Interface → the options it was configured with. */
  readonly #configured = new Map<string, string>();
  #defaultRpFilter: number | undefined;

  constructor(options: SysctlDriverOptions) {
    this.#exec = options.exec;
    this.#log = options.logger ?? silentLogger();
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** IPv4 and IPv6 forwarding on; the IPv6 one is skipped when the host has no IPv6. */
  async configureGlobal(): Promise<void> {
    const failed = await this.#write([
      { key: 'net/ipv4/ip_forward', value: '1', onFail: 'error' },
      { key: 'net/ipv6/conf/all/forwarding', value: '1', onFail: 'absent-ok' },
    ]);
    if (failed.error !== undefined) throw failed.error;
  }

  /** Per-interface settings of a workload interface; a no-op when already done with these options. */
  async configureIface(iface: string, options: IfaceSysctlOptions): Promise<void> {
    await this.configureIfaces([{ iface, options }]);
  }

  /**
   * Configures many interfaces with one `sysctl` call per 1,000 of them (an agent starting on a
   * host with thousands of VMs must not run thousands of processes). `sysctl -p` goes on past a
   * failing key and names it, so one bad interface does not hold the others back: every
   * interface whose keys all took is remembered, and the first failure is thrown at the end.
   */
  async configureIfaces(items: readonly { iface: string; options: IfaceSysctlOptions }[]): Promise<void> {
    const todo: { iface: string; signature: string; settings: Setting[] }[] = [];
    for (const { iface, options } of items) {
      if (!IFACE_NAME.test(iface) || iface === '.' || iface === '..') throw new SysctlSpecError(iface);
      const rpFilter = options.rpFilter ?? (await this.#readDefaultRpFilter());
      const signature = `${options.ipv6}/${rpFilter}`;
      if (this.#configured.get(iface) === signature) continue;
      todo.push({ iface, signature, settings: ifaceSettings(iface, options.ipv6, rpFilter) });
    }
    let firstError: SysctlWriteError | undefined;
    for (let i = 0; i < todo.length; i += BATCH) {
      const batch = todo.slice(i, i + BATCH);
      const failed = await this.#write(batch.flatMap((t) => t.settings));
      for (const t of batch) if (!t.settings.some((s) => failed.keys.has(s.key))) this.#configured.set(t.iface, t.signature);
      firstError ??= failed.error;
    }
    if (firstError !== undefined) throw firstError;
  }

  /** The interface went down or away: configure it again when it comes back. */
  forget(iface: string): void {
    this.#configured.delete(iface);
  }

  isConfigured(iface: string): boolean {
    return this.#configured.has(iface);
  }

  get configuredCount(): number {
    return this.#configured.size;
  }

  async #readDefaultRpFilter(): Promise<number> {
    if (this.#defaultRpFilter !== undefined) return this.#defaultRpFilter;
    const key = 'net.ipv4.conf.default.rp_filter';
    const result = await this.#exec.run('sysctl', ['-n', key], { timeoutMs: this.#timeoutMs });
    const value = Number(result.stdout.trim());
    if (result.code !== 0 || result.stdout.trim() === '' || !Number.isInteger(value)) throw new SysctlReadError(key, firstLine(result));
    this.#defaultRpFilter = value;
    return value;
  }

  /** Writes settings with one `sysctl -p -`; the keys that failed (and the error) or none. */
  async #write(settings: readonly Setting[]): Promise<{ keys: ReadonlySet<string>; error?: SysctlWriteError }> {
    const input = settings.map((s) => `${s.key} = ${s.value}\n`).join('');
    const result = await this.#exec.run('sysctl', ['-q', '-p', '-'], { input, timeoutMs: this.#timeoutMs });
    if (result.code === 0) return { keys: new Set() };
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
    const failedLine = (s: Setting): string | undefined => lines.find((l) => mentions(l, s.key));
    const failed = settings.map((s) => ({ s, line: failedLine(s) })).filter((f) => f.line !== undefined);
    // Unattributable failure (killed, sysctl missing, new message format): everything failed.
    const all = failed.length === 0 ? settings.map((s) => ({ s, line: firstLine(result) })) : failed;
    const errors: { s: Setting; line: string }[] = [];
    for (const { s, line = '' } of all) {
      if (s.onFail === 'warn') {
        this.#log.warn({ key: s.key, reason: line }, 'Setting a sysctl failed; continuing');
      } else if (s.onFail === 'absent-ok' && /cannot stat|No such file/.test(line)) {
        this.#log.debug({ key: s.key }, 'sysctl absent (IPv6 disabled?); skipped');
      } else {
        errors.push({ s, line });
      }
    }
    if (errors.length === 0) return { keys: new Set() };
    return {
      keys: new Set(errors.map((e) => e.s.key)),
      error: new SysctlWriteError(
        errors.map((e) => e.s.key),
        errors[0]?.line ?? firstLine(result),
      ),
    };
  }
}

function firstLine(result: RunResult): string {
  const line = result.stderr.split('\n').find((l) => l.trim() !== '');
  return line?.trim() ?? `exit ${result.code ?? result.signal ?? 'unknown'}`;
}

/**
 * Whether a procps sysctl error line is about `key` (slash form). It names the /proc path
 * ("cannot stat /proc/sys/<key>") or the key with '.' and '/' swapped ('setting key "…"').
 */
function mentions(line: string, key: string): boolean {
  const swapped = key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
  return line.includes(`/proc/sys/${key}:`) || line.includes(`"${swapped}"`) || line.includes(`"${key}"`) || line.includes(`'${swapped}'`);
}
