import type { PortRecord } from '../records.js';
import type { AddressRequest, PlannedIp } from './port-addresses.js';

/** What a port update's `fixed_ips` keeps, asks for anew, and releases. */
export interface FixedIpChanges {
  /** Addresses the port holds and keeps. */
  readonly kept: PlannedIp[];
  /** Requests no held address satisfies: to be planned. */
  readonly wanted: AddressRequest[];
  /** Held addresses no request keeps. */
  readonly released: PlannedIp[];
}

/**
 * Neutron keeps what it can: a named address the port holds (on the named subnet, if one is
 * named), and for a subnet-only entry an address the port already has on that subnet. Each held
 * address satisfies at most one request.
 */
export function fixedIpChanges(held: PortRecord['fixed_ips'], requested: readonly AddressRequest[]): FixedIpChanges {
  const kept: PlannedIp[] = [];
  const wanted: AddressRequest[] = [];
  for (const r of requested) {
    const hit = held.find(
      (f) =>
        !kept.some((k) => k.ip_address === f.ip_address) &&
        (r.ip_address !== undefined
          ? f.ip_address === r.ip_address && (r.subnet_id === undefined || r.subnet_id === f.subnet_id)
          : f.subnet_id === r.subnet_id),
    );
    if (hit === undefined) wanted.push(r);
    else kept.push({ ...hit, requested: true });
  }
  const released = held.filter((f) => !kept.some((k) => k.ip_address === f.ip_address)).map((f) => ({ ...f, requested: true }));
  return { kept, wanted, released };
}
