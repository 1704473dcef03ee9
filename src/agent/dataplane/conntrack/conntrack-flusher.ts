import { silentLogger, type Exec, type Logger } from '../../../lib/index.js';

export interface ConntrackFlusherOptions {
  readonly exec: Exec;
  readonly logger?: Logger;
}

/**
 * Forgets the kernel's connection-tracking entries towards addresses that stopped being
 * floating IPs (Felix's conntrack owner tracker, for NAT): without this, a flow that was
 * DNATed before the mapping went keeps being translated to the VM for as long as its entry
 * lives. `conntrack -D --orig-dst <ip>` per address; exit 1 with "0 flow entries" is success.
 * A failure is logged and retried on the next apply; a missing `conntrack` binary is logged once
 * (the agent still works, as it did before).
 */
export class ConntrackFlusher {
  readonly #exec: Exec;
  readonly #log: Logger;
  readonly #pending = new Set<string>();
  #missingLogged = false;

  constructor(o: ConntrackFlusherOptions) {
    this.#exec = o.exec;
    this.#log = o.logger ?? silentLogger();
  }

  /** Queue destinations whose flows must go at the next `flush()`. */
  add(ips: Iterable<string>): void {
    for (const ip of ips) this.#pending.add(ip);
  }

  get pending(): ReadonlySet<string> {
    return this.#pending;
  }

  async flush(): Promise<void> {
    for (const ip of [...this.#pending]) {
      const r = await this.#exec.run('conntrack', ['-D', '--orig-dst', ip]);
      if (r.code === 127 || /command not found|No such file/.test(r.stderr)) {
        if (!this.#missingLogged)
          this.#log.warn({ stderr: r.stderr.trim() }, 'conntrack is not available: flows to removed floating IPs live until they time out');
        this.#missingLogged = true;
        this.#pending.delete(ip);
        continue;
      }
      if (r.code === 0 || /0 flow entries/.test(r.stderr)) {
        this.#pending.delete(ip);
        this.#log.debug({ ip, out: r.stderr.trim() }, 'forgot conntrack entries of a removed floating IP');
      } else {
        this.#log.warn({ ip, code: r.code, stderr: r.stderr.trim() }, 'conntrack -D failed; retrying on the next apply');
      }
    }
  }
}
