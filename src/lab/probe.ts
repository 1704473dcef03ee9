import { fileURLToPath } from 'node:url';
import type { ChildHandle, ExitStatus } from '../lib/index.js';
import { parseIp } from '../model/index.js';
import { LabProbeError } from './errors.js';
import type { Lab } from './lab-topology.js';

/** The prober/responder script, beside this file in dist/ (so it works from any working directory). */
export const PROBE_MAIN = fileURLToPath(new URL('./probe-main.js', import.meta.url));

export type ProbeKind = 'ping' | 'tcp' | 'udp';

/** How to probe: the kind alone, or with a timeout (default 1000 ms) and a source address. */
export type ProbeOptions =
  | ProbeKind
  | {
      readonly kind: ProbeKind;
      readonly timeoutMs?: number;
      /**
       * Send from this address (e.g. a spoofed one). It must be on an interface of the VM first:
       * `await lab.vm(name).ip('addr', 'add', `${spoof}/32`, 'dev', 'eth0')`.
       */
      readonly source?: string;
    };

/** What a probe saw, for messages: `answered`, `refused`, `timeout`, `error: …` or ping's summary. */
export interface ProbeOutcome {
  readonly answered: boolean;
  readonly outcome: string;
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .at(-1) ?? ''
  );
}

/**
 * Probes `to` from inside VM (or host) `from` of the lab, once, with a real packet exchange:
 * `ping -c 1 -n` for ping; for tcp/udp the lab's prober sends a token to `to.port` and waits
 * for the responder's echo (see `startResponder`). Never looks a name up.
 */
export async function probe(lab: Lab, from: string, to: { readonly ip: string; readonly port?: number }, options: ProbeOptions): Promise<ProbeOutcome> {
  const o = typeof options === 'string' ? { kind: options } : options;
  const timeoutMs = o.timeoutMs ?? 1000;
  const ns = lab.netnsOf(from).netns;
  const family = parseIp(to.ip)?.family;
  if (family === undefined) throw new LabProbeError(`Not a numeric IP address: ${to.ip}`);
  const hardLimit = { timeoutMs: timeoutMs + 10_000 };
  if (o.kind === 'ping') {
    const args = ['-c', '1', '-W', String(Math.max(1, Math.ceil(timeoutMs / 1000))), '-n', ...(o.source === undefined ? [] : ['-I', o.source]), to.ip];
    const r = await ns.run('ping', args, hardLimit);
    const summary = r.stdout.split('\n').find((l) => l.includes('packets transmitted')) ?? lastLine(r.stderr);
    return { answered: r.code === 0, outcome: summary.trim() };
  }
  if (to.port === undefined) throw new LabProbeError(`A ${o.kind} probe needs a port: ${from} to ${to.ip}`);
  const args = [
    PROBE_MAIN,
    'check',
    o.kind,
    to.ip,
    String(to.port),
    '--timeout-ms',
    String(timeoutMs),
    ...(o.source === undefined ? [] : ['--source', o.source]),
  ];
  const r = await ns.run(process.execPath, args, hardLimit);
  if (r.code === 2) throw new LabProbeError(`Prober refused its arguments: ${lastLine(r.stderr)}`);
  return { answered: r.code === 0, outcome: lastLine(r.stdout) || lastLine(r.stderr) };
}

/** True if `to` answered a `kind` probe from `from` (see `probe`). */
export async function checkConnectivity(lab: Lab, from: string, to: { readonly ip: string; readonly port?: number }, options: ProbeOptions): Promise<boolean> {
  return (await probe(lab, from, to, options)).answered;
}

/** A responder running inside a VM: stop it with `stop()` (by PID). */
export interface Responder {
  readonly pid: number;
  /** The process, for tests to register with `trackChild`. */
  readonly child: ChildHandle;
  stop(): Promise<ExitStatus>;
}

/**
 * Starts the lab's echo responder inside VM (or host) `vm` on the given TCP and UDP ports, bound to each
 * of the VM's addresses (so UDP replies leave from the address asked), or to `bind` if given.
 * Resolves once every socket listens.
 */
export async function startResponder(
  lab: Lab,
  vm: string,
  ports: { readonly tcp?: readonly number[]; readonly udp?: readonly number[]; readonly bind?: readonly string[]; readonly startTimeoutMs?: number },
): Promise<Responder> {
  const { netns: ns, machine: isHost, addresses } = lab.netnsOf(vm);
  // A host listens everywhere (its fabric address, and 127.0.0.1 for the metadata DNAT target);
  // the border and the outside host on their addresses; a VM on its fixed IPs.
  const bind = ports.bind ?? addresses ?? (isHost ? ['0.0.0.0'] : lab.vmInfo(vm).ips.map((i) => i.ip));
  const args = ['netns', 'exec', ns.name, process.execPath, PROBE_MAIN, 'serve'];
  if (ports.tcp !== undefined && ports.tcp.length > 0) args.push('--tcp', ports.tcp.join(','));
  if (ports.udp !== undefined && ports.udp.length > 0) args.push('--udp', ports.udp.join(','));
  if (bind.length > 0) args.push('--bind', bind.join(','));
  const child = lab.exec.spawn('ip', args);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ports.startTimeoutMs ?? 10_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('ready\n')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void child.exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    child.kill('SIGKILL');
    await child.exited;
    throw new LabProbeError(`Responder did not start in ${vm}: ${lastLine(stderr) || 'no output'}`);
  }
  child.stdout.resume();
  return {
    pid: child.pid,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      return child.exited;
    },
  };
}
