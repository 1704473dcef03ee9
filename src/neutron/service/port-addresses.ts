import { parseIp } from '../../model/index.js';
import { faults } from '../errors.js';
import { cidrToRange, eui64Address, ipToBigInt, pickAddress, rangeContains, type TakenAddresses } from '../ipam/index.js';
import type { FixedIp, NetworkRecord, SubnetRecord } from '../records.js';
import type { NeutronDeps } from './neutron-deps.js';

export interface AddressRequest {
  readonly subnet_id?: string | undefined;
  readonly ip_address?: string | undefined;
}

/** One fixed IP a port will hold; `requested` when the caller named the address. */
export interface PlannedIp extends FixedIp {
  readonly requested: boolean;
}

function inSubnet(subnet: SubnetRecord, ip: string): boolean {
  const r = cidrToRange(subnet.cidr);
  const v = ipToBigInt(ip);
  return r !== undefined && v !== undefined && rangeContains(r, v.family, v.value);
}

const AUTO_ADDRESS = new Set(['slaac', 'dhcpv6-stateless']);

/**
 * Works out a port's fixed IPs, Neutron's way: named addresses are checked against their
 * subnet (or found a subnet on the network); a subnet alone gets a random free address from its
 * pools; no request at all gets one IPv4 address (first subnet with room) plus SLAAC addresses
 * on auto-address IPv6 subnets and one stateful IPv6 address. Draws are among the addresses the
 * cache knows to be free; without a cache the first attempt draws blind and `attempt` > 0 (a
 * pick collided) lists the subnet's allocations from the datastore first.
 */
export async function planAddresses(
  d: NeutronDeps,
  ctx: {
    network: NetworkRecord;
    subnets: readonly SubnetRecord[];
    mac: string;
    portId: string;
    attempt: number;
    /** Addresses not to pick (kept by the port, or picked by other ports of the same transaction). */
    reserved?: ReadonlySet<string>;
    /** Subnet allocations listed once for several ports (a bulk transaction's retry). */
    allocations?: Map<string, Promise<Map<string, string>>>;
    allowGateway?: boolean;
  },
  requests: readonly AddressRequest[] | undefined,
): Promise<PlannedIp[]> {
  const { network, subnets, mac } = ctx;
  const byId = new Map(subnets.map((s) => [s.id, s]));
  const out: PlannedIp[] = [];
  const reserved = ctx.reserved ?? new Set<string>();
  const allocationsOf = (subnetId: string): Promise<Map<string, string>> => {
    const memo = ctx.allocations;
    if (memo === undefined) return d.store.allocatedIps(subnetId);
    const hit = memo.get(subnetId) ?? d.store.allocatedIps(subnetId);
    memo.set(subnetId, hit);
    return hit;
  };
  const taken = async (s: SubnetRecord): Promise<TakenAddresses> => {
    const local = new Set(out.filter((p) => p.subnet_id === s.id).map((p) => p.ip_address));
    // Pick among the addresses the cache knows to be free: the create-only address key catches
    // a collision with a create the cache has not seen yet, and the retry picks again (by then
    // the watch has usually brought it). Without a cache the first try is blind, and only a
    // retry lists the subnet's allocations from the datastore.
    const cached = d.store.cachedAllocations(s.id);
    if (cached !== undefined) {
      return {
        has: (ip) => local.has(ip) || reserved.has(ip) || (cached.has(ip) && cached.owner(ip) !== ctx.portId),
        size: cached.size + local.size + reserved.size,
      };
    }
    if (ctx.attempt === 0) return { has: (ip) => local.has(ip) || reserved.has(ip), size: local.size + reserved.size };
    const owned = await allocationsOf(s.id);
    return {
      has: (ip) => local.has(ip) || reserved.has(ip) || (owned.has(ip) && owned.get(ip) !== ctx.portId),
      size: owned.size + local.size + reserved.size,
    };
  };
  const draw = async (s: SubnetRecord): Promise<string | undefined> => {
    if (s.ip_version === 6 && s.ipv6_address_mode !== null && AUTO_ADDRESS.has(s.ipv6_address_mode)) return eui64Address(s.cidr, mac);
    return pickAddress(s.allocation_pools, await taken(s), d.random);
  };

  if (requests === undefined) {
    let gotV4 = false;
    let gotStateful6 = false;
    for (const s of subnets) {
      const auto = s.ip_version === 6 && s.ipv6_address_mode !== null && AUTO_ADDRESS.has(s.ipv6_address_mode);
      if (s.ip_version === 4 && gotV4) continue;
      if (s.ip_version === 6 && !auto && gotStateful6) continue;
      const ip = await draw(s);
      if (ip === undefined) continue;
      out.push({ subnet_id: s.id, ip_address: ip, requested: false });
      if (s.ip_version === 4) gotV4 = true;
      else if (!auto) gotStateful6 = true;
    }
    if (subnets.length > 0 && out.length === 0) throw faults.ipGenerationFailure(network.id);
    return out;
  }

  for (const req of requests) {
    if (req.ip_address !== undefined) {
      const ip = parseIp(req.ip_address);
      if (ip === undefined) throw faults.invalidIpForNetwork(req.ip_address);
      const subnet = req.subnet_id !== undefined ? byId.get(req.subnet_id) : subnets.find((s) => inSubnet(s, ip.address));
      if (req.subnet_id !== undefined && subnet === undefined) {
        throw faults.invalidInput(`Failed to create port on network ${network.id}, because fixed_ips included invalid subnet ${req.subnet_id}`);
      }
      if (subnet === undefined) throw faults.invalidIpForNetwork(ip.address);
      if (!inSubnet(subnet, ip.address)) throw faults.invalidIpForSubnet(ip.address);
      const r = cidrToRange(subnet.cidr);
      const v = ipToBigInt(ip.address)?.value;
      if (subnet.ip_version === 4 && r !== undefined && r.prefixLength < 31 && (v === r.first || v === r.last)) throw faults.invalidIpForSubnet(ip.address);
      // Only a router interface may hold its subnet's gateway address.
      if (ip.address === subnet.gateway_ip && ctx.allowGateway !== true) throw faults.invalidIpForSubnet(ip.address);
      if (out.some((p) => p.ip_address === ip.address)) throw faults.invalidInput(`IP address ${ip.address} is requested twice`);
      out.push({ subnet_id: subnet.id, ip_address: ip.address, requested: true });
    } else if (req.subnet_id !== undefined) {
      const subnet = byId.get(req.subnet_id);
      if (subnet === undefined)
        throw faults.invalidInput(`Failed to create port on network ${network.id}, because fixed_ips included invalid subnet ${req.subnet_id}`);
      const ip = await draw(subnet);
      if (ip === undefined) throw faults.ipGenerationFailure(network.id);
      out.push({ subnet_id: subnet.id, ip_address: ip, requested: false });
    } else {
      throw faults.badRequest('Invalid input for fixed_ips. Reason: each entry needs a subnet_id or an ip_address.');
    }
  }
  return out;
}

/** A Neutron-style MAC: the base `fa:16:3e` and three random bytes. */
export function randomMac(random: () => number): string {
  const byte = (): string =>
    Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0');
  return `fa:16:3e:${byte()}:${byte()}:${byte()}`;
}
