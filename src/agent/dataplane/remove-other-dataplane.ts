import type { Exec, Logger } from '../../lib/index.js';
import type { IpFamily } from '../calc/model.js';
import { IpsetDriver } from './ipsets/ipset-driver.js';
import { TABLE_NAMES } from './iptables/chain.js';
import { iptablesCommands, type IptablesBackend } from './iptables/iptables-backend.js';
import { IptablesTable } from './iptables/iptables-table.js';
import { NFT_TABLE, nftFamily } from './nft/nft-names.js';
import type { DataplaneKind } from './rules-backend.js';

export interface RemoveOtherOptions {
  readonly exec: Exec;
  readonly backend: IptablesBackend;
  readonly families: readonly IpFamily[];
  readonly logger: Logger;
}

/**
 * Removes what the other dataplane left on this host (Felix cleans up after its other mode the
 * same way): running on nftables, our chains, kernel-chain rules and IP sets in iptables/ipset
 * (their dispatch would DROP every new tap); running on iptables, our nftables tables. Only
 * what is ours by the ownership rules is touched; a missing tool means there is nothing of it.
 * Returns what it removed, for the log.
 */
export async function removeOtherDataplane(kind: DataplaneKind, o: RemoveOtherOptions): Promise<string[]> {
  const removed: string[] = [];
  if (kind === 'iptables') {
    for (const family of o.families) {
      const r = await o.exec.run('nft', ['delete', 'table', nftFamily(family), NFT_TABLE]);
      if (r.code === 0) removed.push(`nft table ${nftFamily(family)} ${NFT_TABLE}`);
    }
    return removed;
  }
  for (const family of o.families) {
    const save = iptablesCommands(o.backend, family).save;
    const saved = await o.exec.run(save, []);
    if (saved.code !== 0 || !/cali/.test(saved.stdout)) continue;
    for (const table of TABLE_NAMES) {
      // Nothing wanted: the table driver deletes our chains and our rules in kernel chains.
      const t = new IptablesTable({ exec: o.exec, table, family, backend: o.backend, logger: o.logger });
      t.primeFromSave(saved.stdout);
      if ((await t.apply()) > 0) removed.push(`iptables ${table} (IPv${family})`);
    }
  }
  const ipsets = new IpsetDriver({ exec: o.exec, logger: o.logger });
  const listed = await o.exec.run('ipset', ['list', '-n']);
  if (listed.code === 0 && /^cali[46][0t]/m.test(listed.stdout)) {
    await ipsets.applyUpdates();
    await ipsets.applyDeletions();
    removed.push('ipsets');
  }
  return removed;
}
