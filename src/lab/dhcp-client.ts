import { join } from 'node:path';
import { realClock, type Clock, type Exec, type Fs } from '../lib/index.js';
import { LabCommandError } from './errors.js';

/**
 * udhcpc's hook, as a guest's would be: records each event's variables (`<dir>/<netns>.<event>`,
 * written whole), and on a lease configures eth0: the address, the MTU (option 26), the default
 * route via the router, the classless static routes (option 121).
 */
export const UDHCPC_SCRIPT = `#!/bin/sh
# brindle lab: udhcpc hook for a lab VM (LEASE_DIR and VM_NS come from the environment).
out="$LEASE_DIR/$VM_NS.$1"
env | sort > "$out.tmp" && mv "$out.tmp" "$out"
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip addr replace "$ip/$subnet" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    [ -n "$router" ] && ip route replace default via "\${router%% *}" dev "$interface" onlink
    set -- $staticroutes
    while [ $# -ge 2 ]; do ip route replace "$1" via "$2" dev "$interface" onlink; shift 2; done
    ;;
esac
exit 0
`;

/**
 * Starts a real DHCP client in a VM's namespace (busybox udhcpc, in the background as a guest's
 * runs, renewing by itself; it dies with the namespace's processes) and waits for its lease.
 */
export async function startDhcpClient(deps: { exec: Exec; fs: Fs; clock?: Clock }, o: { netns: string; leaseDir: string; timeoutMs?: number }): Promise<void> {
  const clock = deps.clock ?? realClock();
  await deps.fs.ensureDir(o.leaseDir);
  const script = join(o.leaseDir, 'udhcpc.sh');
  if (!deps.fs.exists(script)) {
    await deps.fs.writeTextAtomic(script, UDHCPC_SCRIPT);
    await deps.exec.run('chmod', ['755', script]);
  }
  await deps.fs.remove(join(o.leaseDir, `${o.netns}.bound`));
  const cmd = `LEASE_DIR='${o.leaseDir}' VM_NS='${o.netns}' busybox udhcpc -i eth0 -f -t 20 -T 1 -A 1 -s '${script}' -O mtu -O staticroutes -O search </dev/null >/dev/null 2>&1 &`;
  const r = await deps.exec.run('ip', ['netns', 'exec', o.netns, 'sh', '-c', cmd]);
  if (r.code !== 0) throw new LabCommandError(`udhcpc in ${o.netns}`, r.stderr);
  const deadline = clock.monotonic() + (o.timeoutMs ?? 20_000);
  while (!deps.fs.exists(join(o.leaseDir, `${o.netns}.bound`))) {
    if (clock.monotonic() > deadline) throw new LabCommandError(`udhcpc in ${o.netns}`, `no DHCP lease after ${o.timeoutMs ?? 20_000} ms`);
    await clock.sleep(50);
  }
}

/** The variables of a lease event udhcpc recorded, if any. */
export async function readLease(fs: Fs, leaseDir: string, netns: string, event: string): Promise<Record<string, string> | undefined> {
  const path = join(leaseDir, `${netns}.${event}`);
  if (!fs.exists(path)) return undefined;
  const out: Record<string, string> = {};
  for (const line of (await fs.readText(path)).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
