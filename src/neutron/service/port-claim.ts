import { DatastoreUnavailableError, type Compare, type KeyValue, type TxnOp, type TxnResult } from '../../datastore/index.js';
import { faults } from '../errors.js';
import type { NetworkRecord, PortRecord } from '../records.js';
import { deletingKey, ipKey, macKey, objectKey } from '../store/neutron-keys.js';
import { encodeRecord } from '../store/neutron-store.js';
import { notBeingDeleted } from './deleting-marker.js';
import type { NeutronDeps } from './neutron-deps.js';
import type { PlannedIp } from './port-addresses.js';
import type { QuotaTxnPart } from './quota-guard.js';

/** Why a claim transaction failed, found from the failure branch's reads. */
export type ClaimFailure =
  | { kind: 'gone'; what: 'Network' | 'Subnet' | 'SecurityGroup'; id: string }
  | { kind: 'requested-ip'; ip: PlannedIp }
  | { kind: 'requested-mac'; mac: string }
  | { kind: 'collision' }
  | { kind: 'stale' };

export interface ClaimOptions {
  /** The port's modRevision as read; undefined for a new port. */
  readonly portRevision: number | undefined;
  readonly newIps: readonly PlannedIp[];
  readonly releasedIps: readonly PlannedIp[];
  readonly newMac: string | undefined;
  readonly oldMac: string | undefined;
  /** The caller named the MAC: its being taken is the caller's fault, not a collision to retry. */
  readonly macRequested: boolean;
  /** A new port's share of its project's quota (its compare failing reads as a collision: plan again). */
  readonly quota?: QuotaTxnPart;
}

/** One port's share of a claim transaction. */
export interface PortClaim {
  readonly port: PortRecord;
  readonly options: ClaimOptions;
}

function claimCompares(port: PortRecord, o: ClaimOptions): Compare[] {
  const subnetIds = [...new Set(o.newIps.map((i) => i.subnet_id))];
  return [
    o.portRevision === undefined
      ? { key: objectKey('ports', port.id), target: 'version', op: '==', value: 0 }
      : { key: objectKey('ports', port.id), target: 'modRevision', op: '==', value: o.portRevision },
    { key: objectKey('networks', port.network_id), target: 'version', op: '>', value: 0 },
    { key: deletingKey('networks', port.network_id), target: 'version', op: '==', value: 0 },
    ...subnetIds.flatMap((s): Compare[] => [
      { key: objectKey('subnets', s), target: 'version', op: '>', value: 0 },
      { key: deletingKey('subnets', s), target: 'version', op: '==', value: 0 },
    ]),
    ...port.security_groups.flatMap((g): Compare[] => [
      { key: objectKey('security-groups', g), target: 'version', op: '>', value: 0 },
      notBeingDeleted('security-groups', g),
    ]),
    ...o.newIps.map((i): Compare => ({ key: ipKey(i.subnet_id, i.ip_address), target: 'version', op: '==', value: 0 })),
    ...(o.newMac === undefined ? [] : [{ key: macKey(port.network_id, o.newMac), target: 'version' as const, op: '==' as const, value: 0 }]),
  ];
}

function claimOps(port: PortRecord, o: ClaimOptions): TxnOp[] {
  return [
    { op: 'put', key: objectKey('ports', port.id), value: encodeRecord(port) },
    ...o.newIps.map((i): TxnOp => ({ op: 'put', key: ipKey(i.subnet_id, i.ip_address), value: port.id })),
    ...o.releasedIps.map((i): TxnOp => ({ op: 'delete', key: ipKey(i.subnet_id, i.ip_address) })),
    ...(o.newMac === undefined ? [] : [{ op: 'put' as const, key: macKey(port.network_id, o.newMac), value: port.id }]),
    ...(o.oldMac === undefined ? [] : [{ op: 'delete' as const, key: macKey(port.network_id, o.oldMac) }]),
  ];
}

/** Why one port's claim failed, from the failure branch's reads (`seen`: key → what is there). */
function claimFailure(port: PortRecord, o: ClaimOptions, seen: ReadonlyMap<string, KeyValue | undefined>): ClaimFailure {
  const subnetIds = [...new Set(o.newIps.map((i) => i.subnet_id))];
  if (o.portRevision !== undefined && seen.get(objectKey('ports', port.id))?.modRevision !== o.portRevision) return { kind: 'stale' };
  if (seen.get(objectKey('networks', port.network_id)) === undefined || seen.get(deletingKey('networks', port.network_id)) !== undefined) {
    return { kind: 'gone', what: 'Network', id: port.network_id };
  }
  for (const s of subnetIds) {
    if (seen.get(objectKey('subnets', s)) === undefined || seen.get(deletingKey('subnets', s)) !== undefined) return { kind: 'gone', what: 'Subnet', id: s };
  }
  for (const g of port.security_groups) {
    if (seen.get(objectKey('security-groups', g)) === undefined || seen.get(deletingKey('security-groups', g)) !== undefined)
      return { kind: 'gone', what: 'SecurityGroup', id: g };
  }
  for (const ip of o.newIps) {
    if (seen.get(ipKey(ip.subnet_id, ip.ip_address)) !== undefined && ip.requested) return { kind: 'requested-ip', ip };
  }
  if (o.newMac !== undefined && seen.get(macKey(port.network_id, o.newMac)) !== undefined && o.macRequested) return { kind: 'requested-mac', mac: o.newMac };
  return { kind: 'collision' };
}

/** The compares as one list without repeats (ports of one network share most of theirs). */
function uniqueCompares(compares: readonly Compare[]): Compare[] {
  const seen = new Set<string>();
  return compares.filter((c) => {
    const id = `${c.key}\u0000${c.target}\u0000${c.op}\u0000${String(c.value)}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * One transaction that writes the port and claims (create-only) its new addresses and MAC,
 * releasing old ones, guarded on the port's revision, its network, subnets and security groups
 * existing and not being deleted. Returns why it failed, or undefined on success.
 */
export function claimPort(d: NeutronDeps, port: PortRecord, o: ClaimOptions): Promise<ClaimFailure | undefined> {
  return claimPorts(d, [{ port, options: o }], o.quota);
}

/**
 * Several ports' claims in one transaction (a bulk create): all commit or none. Returns the
 * failure to act on: a caller's fault (a resource gone, a requested address or MAC taken) if
 * any port has one, else a collision or stale read to plan again for; undefined on success.
 */
export async function claimPorts(d: NeutronDeps, claims: readonly PortClaim[], quota?: QuotaTxnPart): Promise<ClaimFailure | undefined> {
  const compare = uniqueCompares([...claims.flatMap((c) => claimCompares(c.port, c.options)), ...(quota?.compare ?? [])]);
  const success = [...claims.flatMap((c) => claimOps(c.port, c.options)), ...(quota?.success ?? [])];
  let r: TxnResult;
  try {
    // No failure branch: a failed claim is rare (the cache knows the taken addresses), so the
    // keys are read afterwards rather than sent with every claim.
    r = await d.kv.txn({ compare, success });
  } catch (err) {
    // The reply may have been lost after the commit: the port ids are ours, so read one back
    // before calling it a failure (a client that retries would otherwise leave an orphan).
    const first = claims[0];
    if (
      first !== undefined &&
      err instanceof DatastoreUnavailableError &&
      (await d.kv.get(objectKey('ports', first.port.id)).catch(() => undefined))?.value === encodeRecord(first.port)
    )
      return undefined;
    throw err;
  }
  if (r.succeeded) return undefined;
  const read = await d.kv.txn({ compare: [], success: compare.map((c) => ({ op: 'get' as const, key: c.key })) });
  const seen = new Map(compare.map((c, i) => [c.key, read.results[i]?.op === 'get' ? read.results[i].kv : undefined]));
  const failures = claims.map((c) => claimFailure(c.port, c.options, seen));
  return failures.find((f) => f.kind !== 'collision' && f.kind !== 'stale') ?? failures.find((f) => f.kind === 'stale') ?? failures[0];
}

/** How many compares and writes a claim adds to a transaction (for chunking a bulk create under etcd's --max-txn-ops). */
export function claimSize(c: PortClaim): number {
  return c.options.newIps.length + (c.options.newMac === undefined ? 0 : 1) + 1;
}

/** Throws the caller's fault for a failure; returns for one that planning again may fix (a collision, a stale read). */
export function raiseClaimFailure(failure: ClaimFailure, network: NetworkRecord): void {
  switch (failure.kind) {
    case 'gone':
      throw faults.notFound(failure.what, failure.id);
    case 'requested-ip':
      throw faults.ipAlreadyAllocated(failure.ip.ip_address, failure.ip.subnet_id);
    case 'requested-mac':
      throw faults.macInUse(network.id, failure.mac);
    default:
      return; // a random pick collided, or the port moved on: plan again
  }
}
