// The root filesystem simulated machines boot: Debian's minimal base with systemd and sshd,
// nothing of Brindle's (deploy installs that). Built once with mmdebstrap (about 30 s) into
// /var/cache/brindle-test and reused read-only as the lower layer of every machine's overlay.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { realExec, realFs } from '../../lib/index.js';

export const TEST_ROOTFS_CACHE = '/var/cache/brindle-test';

/** What a bare machine has: an init, sshd, and the tools an administrator's ssh session uses. */
const PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'ca-certificates', 'procps'];
const HOOKS = [
  // The address comes from a .network file each machine gets; nothing waits for a network that is not there.
  'chroot "$1" systemctl enable systemd-networkd',
  'chroot "$1" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service',
  'rm -f "$1"/etc/ssh/ssh_host_*',
  // Each machine makes its own host keys at first boot.
  'printf "[Unit]\\nBefore=ssh.service\\nConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\\n[Service]\\nType=oneshot\\nExecStart=/usr/bin/ssh-keygen -A\\n[Install]\\nWantedBy=multi-user.target\\n" > "$1"/etc/systemd/system/ssh-hostkeys.service',
  'chroot "$1" systemctl enable ssh-hostkeys.service',
  ': > "$1"/etc/machine-id',
];

/** The cached root filesystem's path, building it first if it is not there yet. */
export async function ensureTestRootfs(onProgress: (line: string) => void = () => {}): Promise<string> {
  const fs = realFs();
  const exec = realExec();
  const hash = createHash('sha256')
    .update(JSON.stringify([PACKAGES, HOOKS]))
    .digest('hex')
    .slice(0, 12);
  const path = join(TEST_ROOTFS_CACHE, `rootfs-bookworm-${hash}`);
  if (fs.exists(join(path, 'etc/os-release'))) return path;
  await fs.ensureDir(TEST_ROOTFS_CACHE);
  const building = `${path}.building-${process.pid}`;
  onProgress(`building the machines' root filesystem with mmdebstrap (once, about 30 s): ${path}`);
  const args = ['--quiet', '--variant=minbase', `--include=${PACKAGES.join(',')}`, ...HOOKS.map((h) => `--customize-hook=${h}`), 'bookworm', building];
  const r = await exec.run('mmdebstrap', args, { timeoutMs: 600_000 });
  if (r.code !== 0) {
    await fs.remove(building);
    throw new Error(`mmdebstrap failed (exit ${r.code}): ${(r.stderr + r.stdout).trim().slice(-3000)}`);
  }
  // Another test may have finished the same build first: keep theirs.
  const mv = await exec.run('mv', ['-T', building, path]);
  if (mv.code !== 0) await fs.remove(building);
  return path;
}
