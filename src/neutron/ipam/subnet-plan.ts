import type { IpFamily } from '../../model/index.js';
import { faults } from '../errors.js';
import { bigIntToIp, cidrToRange, ipToBigInt, rangeContains, rangesOverlap, type IpRange } from './ip-range.js';

export interface AllocationPool {
  readonly start: string;
  readonly end: string;
}

export interface SubnetPlanInput {
  readonly cidr: string;
  /** undefined: Neutron's default (first host); null: no gateway. */
  readonly gatewayIp: string | null | undefined;
  readonly allocationPools: readonly AllocationPool[] | undefined;
}

export interface SubnetPlan {
  readonly family: IpFamily;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly allocationPools: AllocationPool[];
}

function poolText(p: AllocationPool): string {
  return `${p.start}-${p.end}`;
}

/** Splits a range around one address (the gateway), dropping empty pieces. */
function excluding(range: IpRange, value: bigint): IpRange[] {
  if (!rangeContains(range, range.family, value)) return [range];
  const out: IpRange[] = [];
  if (value > range.first) out.push({ ...range, last: value - 1n });
  if (value < range.last) out.push({ ...range, first: value + 1n });
  return out;
}

/**
 * Neutron's subnet defaults and checks: the gateway defaults to the first host address; pools
 * default to every usable address (IPv4 without network and broadcast, IPv6 without the
 * subnet-router anycast address) minus the gateway; given pools must lie in the CIDR, be
 * ordered, not overlap each other, and not contain the gateway. A gateway outside the CIDR is
 * accepted (Neutron's rule: an on-link gateway of another prefix cannot be checked).
 */
export function planSubnet(input: SubnetPlanInput): SubnetPlan {
  const whole = cidrToRange(input.cidr);
  if (whole === undefined) throw faults.invalidInput(`'${input.cidr}' is not a valid IP subnet`);
  const { family } = whole;
  const cidr = `${bigIntToIp(family, whole.first)}/${whole.prefixLength}`;
  const usable: IpRange =
    family === 4 && whole.prefixLength < 31
      ? { family, first: whole.first + 1n, last: whole.last - 1n }
      : family === 6 && whole.prefixLength < 127
        ? { family, first: whole.first + 1n, last: whole.last }
        : { family, first: whole.first, last: whole.last };

  let gateway: bigint | undefined;
  if (input.gatewayIp === undefined) {
    gateway = usable.first;
  } else if (input.gatewayIp !== null) {
    const gw = ipToBigInt(input.gatewayIp);
    if (gw === undefined || gw.family !== family) throw faults.invalidInput(`gateway_ip ${input.gatewayIp} is not a valid IPv${family} address`);
    // As Neutron (check_gateway_invalid_in_subnet): a gateway outside the CIDR cannot be checked
    // and is accepted; inside an IPv4 subnet it may not be the network or broadcast address.
    if (family === 4 && rangeContains(whole, family, gw.value) && (gw.value === whole.first || gw.value === whole.last) && whole.prefixLength < 31) {
      throw faults.invalidInput(`gateway_ip ${input.gatewayIp} is the network or broadcast address of ${cidr}`);
    }
    gateway = gw.value;
  }

  let pools: IpRange[];
  if (input.allocationPools === undefined || input.allocationPools.length === 0) {
    pools = gateway === undefined ? [usable] : excluding(usable, gateway);
  } else {
    pools = input.allocationPools.map((p) => {
      const s = ipToBigInt(p.start);
      const e = ipToBigInt(p.end);
      if (s === undefined || e === undefined || s.family !== family || e.family !== family || s.value > e.value) {
        throw faults.invalidAllocationPool(poolText(p));
      }
      const range: IpRange = { family, first: s.value, last: e.value };
      if (range.first < usable.first || range.last > usable.last) throw faults.outOfBoundsPool(poolText(p), cidr);
      return range;
    });
    const sorted = [...pools].sort((a, b) => (a.first < b.first ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1];
      const b = sorted[i];
      if (a !== undefined && b !== undefined && rangesOverlap(a, b)) {
        throw faults.overlappingPools(
          `${bigIntToIp(family, a.first)}-${bigIntToIp(family, a.last)}`,
          `${bigIntToIp(family, b.first)}-${bigIntToIp(family, b.last)}`,
        );
      }
    }
    if (gateway !== undefined) {
      const hit = pools.find((r) => rangeContains(r, family, gateway));
      if (hit !== undefined) throw faults.gatewayInPool(bigIntToIp(family, gateway), `${bigIntToIp(family, hit.first)}-${bigIntToIp(family, hit.last)}`);
    }
    pools = sorted;
  }
  return {
    family,
    cidr,
    gatewayIp: gateway === undefined ? null : bigIntToIp(family, gateway),
    allocationPools: pools.map((r) => ({ start: bigIntToIp(family, r.first), end: bigIntToIp(family, r.last) })),
  };
}
