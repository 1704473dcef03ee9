import { join } from 'node:path';

/** The files of one dnsmasq, all in its run directory. */
export interface DnsmasqPaths {
  readonly dir: string;
  readonly hosts: string;
  readonly opts: string;
  readonly leases: string;
  readonly pid: string;
  readonly log: string;
}

export function dnsmasqPaths(dir: string): DnsmasqPaths {
  return {
    dir,
    hosts: join(dir, 'hosts'),
    opts: join(dir, 'opts'),
    leases: join(dir, 'leases'),
    pid: join(dir, 'dnsmasq.pid'),
    log: join(dir, 'dnsmasq.log'),
  };
}
