import { dirname } from 'node:path';
import type { Clock, Exec, Fs } from '../lib/index.js';
import { LabProcessError } from './errors.js';
import type { LabBorder } from './lab-topology.js';
import { VIF } from './vif.js';

/** The AS the lab's data center uses (Calico's default) and the border's own. */
export const LAB_AS = { dataCenter: 64512, border: 65000 } as const;

/**
 * The border router's BIRD configuration, written as the operator of a customer router would:
 * it is not rendered by Brindle. eBGP with the data center (dynamic sessions accepted from any
 * host on the fabric, AS 64512), the outside network announced, every VM route learned put in
 * the kernel. Graceful restart on, so a restarting host's routes are kept meanwhile.
 */
export function borderBirdConfig(b: LabBorder, logFile: string): string {
  return `# The lab's border router: plain BIRD, configured by hand as an operator would.
router id ${b.ip4};
log "${logFile}" { info, remote, warning, error, auth, fatal, bug };
timeformat protocol iso long;

protocol device { scan time 2; }

# The outside network is what we announce to the data center.
protocol direct outside {
  ipv4;
  ipv6;
  interface "out0";
}

# The fabric, so the hosts' next hops resolve (sessions are multihop); announced to no one.
protocol direct fabric {
  ipv4;
  ipv6;
  interface "eth0";
}

# Routes learned from the data center go into the kernel: that is how the outside gets back in.
protocol kernel {
  ipv4 { import none; export where source = RTS_BGP; };
  merge paths on;
}
protocol kernel {
  ipv6 { import none; export where source = RTS_BGP; };
  merge paths on;
}

template bgp datacenter {
  local as ${b.asNumber};
  multihop;
  graceful restart on;
  connect retry time 5;
}

protocol bgp dc4 from datacenter {
  description "the data center's hosts, IPv4";
  local ${b.ip4} as ${b.asNumber};
  neighbor range ${VIF.fabricPrefix4}.0/24 as ${LAB_AS.dataCenter};
  ipv4 { import where net ~ [ 198.18.0.0/15{32,32} ]; export where proto = "outside"; };
}

protocol bgp dc6 from datacenter {
  description "the data center's hosts, IPv6";
  local ${b.ip6} as ${b.asNumber};
  neighbor range ${VIF.fabricPrefix6}:/64 as ${LAB_AS.dataCenter};
  ipv6 { import where net ~ [ 2001:db8::/32{128,128} ]; export where proto = "outside"; };
}
`;
}

/**
 * Writes the border's configuration and starts its BIRD inside the border namespace (BIRD
 * daemonizes; it dies with the namespace's processes when the lab is destroyed). Waits until
 * it answers on its control socket.
 */
export async function startBorderBird(deps: { exec: Exec; fs: Fs; clock: Clock }, border: LabBorder): Promise<void> {
  const dir = dirname(border.birdSocket);
  await deps.fs.ensureDir(dir);
  const conf = `${dir}/bird.conf`;
  await deps.fs.writeTextAtomic(conf, borderBirdConfig(border, `${dir}/bird.log`));
  const r = await deps.exec.run('ip', ['netns', 'exec', border.netns, 'bird', '-c', conf, '-s', border.birdSocket, '-P', `${dir}/bird.pid`]);
  if (r.code !== 0) throw new LabProcessError('border BIRD', `did not start: ${r.stderr.trim()}`);
  const deadline = deps.clock.monotonic() + 10_000;
  for (;;) {
    const s = await deps.exec.run('birdc', ['-s', border.birdSocket, 'show', 'status']);
    if (s.code === 0 && /Router ID is/.test(s.stdout)) return;
    if (deps.clock.monotonic() > deadline) throw new LabProcessError('border BIRD', `no answer on ${border.birdSocket}`);
    await deps.clock.sleep(50);
  }
}
