import type { Exec } from '../../../lib/index.js';

export type IptablesBackend = 'nft' | 'legacy';

/** The save/restore commands of one backend and family. */
export function iptablesCommands(backend: IptablesBackend, family: 4 | 6): { save: string; restore: string } {
  const base = family === 4 ? 'iptables' : 'ip6tables';
  return { save: `${base}-${backend}-save`, restore: `${base}-${backend}-restore` };
}

/**
 * `auto` picks the backend already in use: legacy when the legacy tables hold rules (another
 * program set the host up that way; mixing both breaks networking), otherwise nft.
 */
export async function detectIptablesBackend(exec: Exec, wanted: 'auto' | IptablesBackend): Promise<IptablesBackend> {
  if (wanted !== 'auto') return wanted;
  const legacy = await exec.run('iptables-legacy-save', []);
  if (legacy.code === 0 && /^-A /m.test(legacy.stdout)) return 'legacy';
  return 'nft';
}
