import { join } from 'node:path';
import type { Exec, Fs, RunResult } from '../lib/index.js';
import { LabCommandError } from './errors.js';

const NETNS_ETC = '/etc/netns';

/** A network namespace the lab made: run commands inside it. */
export class Netns {
  readonly name: string;
  readonly #exec: Exec;

  constructor(name: string, exec: Exec) {
    this.name = name;
    this.#exec = exec;
  }

  /** Runs a command inside the namespace; the result whatever the exit status. */
  run(command: string, args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return this.#exec.run('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** Runs a command inside the namespace and throws LabCommandError if it fails. */
  async must(command: string, args: readonly string[]): Promise<string> {
    const r = await this.run(command, args);
    if (r.code !== 0) throw new LabCommandError(`${command} ${args.join(' ')} (in ${this.name})`, r.stderr);
    return r.stdout;
  }

  /** `ip …` inside the namespace. */
  ip(...args: string[]): Promise<string> {
    return this.must('ip', args);
  }
}

async function ip(exec: Exec, args: readonly string[]): Promise<void> {
  const r = await exec.run('ip', args);
  if (r.code !== 0) throw new LabCommandError(`ip ${args.join(' ')}`, r.stderr);
}

/**
 * Makes a namespace with loopback up and its own resolv.conf (with no nameserver, so a program
 * that looks a name up fails at once instead of hanging until DNS times out).
 */
export async function createNetns(deps: { exec: Exec; fs: Fs }, name: string): Promise<Netns> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) throw new LabCommandError(`ip netns add ${name}`, 'invalid namespace name');
  await deps.fs.ensureDir(join(NETNS_ETC, name));
  await deps.fs.writeTextAtomic(join(NETNS_ETC, name, 'resolv.conf'), '# Brindle lab: no DNS inside the lab\noptions timeout:1 attempts:1\n');
  await ip(deps.exec, ['netns', 'add', name]);
  const ns = new Netns(name, deps.exec);
  await ns.ip('link', 'set', 'lo', 'up');
  return ns;
}

/** Removes a namespace (and everything in it) and its /etc/netns directory; absent is fine. */
export async function deleteNetns(deps: { exec: Exec; fs: Fs }, name: string): Promise<void> {
  await deps.exec.run('ip', ['netns', 'delete', name]);
  await deps.fs.remove(join(NETNS_ETC, name));
}

/** The names of existing namespaces starting with `prefix`. */
export async function listNetns(exec: Exec, prefix: string): Promise<string[]> {
  const r = await exec.run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '' && n.startsWith(prefix));
}

/**
 * A veth pair between two namespaces: `aName` in `a`, `bName` in `b`, both up, with optional MACs
 * (Nova's tap carries a fixed host-side MAC; a VM's side carries the port's MAC).
 */
export async function connectVeth(
  ends: { a: Netns; aName: string; b: Netns; bName: string },
  options: { aMac?: string; bMac?: string; mtu?: number; aMtu?: number } = {},
): Promise<void> {
  const { a, aName, b, bName } = ends;
  // `aMtu`: the `a` end is born with it (as Nova's tap is with the network's MTU), the `b` end not.
  await a.ip(
    'link',
    'add',
    aName,
    ...(options.aMtu === undefined ? [] : ['mtu', String(options.aMtu)]),
    'type',
    'veth',
    'peer',
    'name',
    bName,
    'netns',
    b.name,
  );
  if (options.aMac !== undefined) await a.ip('link', 'set', aName, 'address', options.aMac);
  if (options.bMac !== undefined) await b.ip('link', 'set', bName, 'address', options.bMac);
  if (options.mtu !== undefined) {
    await a.ip('link', 'set', aName, 'mtu', String(options.mtu));
    await b.ip('link', 'set', bName, 'mtu', String(options.mtu));
  }
  await a.ip('link', 'set', aName, 'up');
  await b.ip('link', 'set', bName, 'up');
}
