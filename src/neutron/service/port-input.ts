import type { NetworkRecord, SubnetRecord } from '../records.js';
import type { PortInput } from '../resources/index.js';

export type { PortChanges, PortInput } from '../resources/index.js';

/** A port to create, checked and read once, before any attempt. */
export interface PreparedPort {
  readonly input: PortInput;
  readonly project: string;
  readonly deviceOwner: string;
  readonly network: NetworkRecord;
  readonly subnets: readonly SubnetRecord[];
  readonly portSecurity: boolean;
  readonly groups: string[];
  readonly pairs: readonly { ip_address: string; mac_address?: string }[];
  readonly id: string;
}

/**
 * Compares one bulk transaction may hold: etcd refuses more than --max-txn-ops (128 by default)
 * compares or writes, and each port brings three or four of its own besides those it shares.
 */
export const BULK_TXN_BUDGET = 100;
/** Ports whose Calico sync runs at once after a bulk create. */
export const BULK_SYNC_WIDTH = 8;

/** Splits a bulk create into transactions within the budget. */
export function bulkChunks(ports: readonly PreparedPort[]): PreparedPort[][] {
  const chunks: PreparedPort[][] = [];
  let chunk: PreparedPort[] = [];
  let size = 0;
  for (const p of ports) {
    // The port, its MAC and its addresses (one per subnet at most when none are asked for).
    const own = 2 + Math.max(1, p.input.fixed_ips?.length ?? p.subnets.length);
    if (chunk.length > 0 && size + own > BULK_TXN_BUDGET) {
      chunks.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(p);
    size += own;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
