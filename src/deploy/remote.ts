// A machine reached over OpenSSH: bash scripts on its standard input, files by scp. The only
// place deploy talks to a machine; steps are tested against real machines through it.
import type { Exec, RunResult } from '../lib/index.js';
import type { Machine } from './inventory.js';

export interface Remote {
  readonly machine: Machine;
  /** Runs a bash script (set -euo pipefail) as root; the result whatever the exit status. */
  run(script: string, timeoutMs?: number): Promise<RunResult>;
  /** Copies local files into a directory on the machine. */
  copy(localFiles: readonly string[], remoteDir: string): Promise<RunResult>;
}

export interface SshOptions {
  /** A private key for every machine (ssh -i). */
  readonly identity?: string | undefined;
  /** Extra `-o` options, e.g. StrictHostKeyChecking=accept-new. */
  readonly options: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 600_000;

export function sshRemote(exec: Exec, machine: Machine, ssh: SshOptions): Remote {
  const common = [
    ...(ssh.identity === undefined ? [] : ['-i', ssh.identity]),
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=15',
    ...ssh.options.flatMap((o) => ['-o', o]),
  ];
  const target = `${machine.ssh.user}@${machine.address.includes(':') ? `[${machine.address}]` : machine.address}`;
  const asRoot = machine.ssh.user === 'root' ? 'bash -s' : 'sudo -n bash -s';
  return {
    machine,
    run: (script, timeoutMs = DEFAULT_TIMEOUT_MS) =>
      exec.run('ssh', [...common, '-p', String(machine.ssh.port), target, asRoot], { input: `set -euo pipefail\nexport LC_ALL=C\n${script}\n`, timeoutMs }),
    // scp writes as the login user: into a directory of its own first, then moved as root.
    copy: async (localFiles, remoteDir) => {
      const staging = `/tmp/brindle-deploy-${machine.ssh.user}-${process.pid}`;
      const mk = await exec.run('ssh', [...common, '-p', String(machine.ssh.port), target, `rm -rf ${staging} && mkdir -m 700 ${staging}`], {
        timeoutMs: 60_000,
      });
      if (mk.code !== 0) return mk;
      const cp = await exec.run('scp', [...common, '-q', '-P', String(machine.ssh.port), ...localFiles, `${target}:${staging}/`], {
        timeoutMs: DEFAULT_TIMEOUT_MS,
      });
      if (cp.code !== 0) return cp;
      return exec.run('ssh', [...common, '-p', String(machine.ssh.port), target, asRoot], {
        input: `set -e\nchown root:root ${staging}/* && mv -f ${staging}/* ${shq(remoteDir)}/ && rmdir ${staging}\n`,
        timeoutMs: 120_000,
      });
    },
  };
}

/** This machine itself (a Fuel task deploys the node it runs on): the same scripts, no ssh. */
export function localRemote(exec: Exec, machine: Machine): Remote {
  return {
    machine,
    run: (script, timeoutMs = DEFAULT_TIMEOUT_MS) => exec.run('bash', ['-s'], { input: `set -euo pipefail\nexport LC_ALL=C\n${script}\n`, timeoutMs }),
    copy: (localFiles, remoteDir) => exec.run('cp', ['--', ...localFiles, `${remoteDir}/`]),
  };
}

/** A shell word: the text in single quotes. */
export function shq(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
