import { parseIp } from '../../model/index.js';
import { faults } from '../errors.js';
import { present, type SubnetChanges, type SubnetInput } from '../resources/index.js';
import { cidrToRange, planSubnet, rangesOverlap } from '../ipam/index.js';
import type { SubnetRecord } from '../records.js';
import { deletingKey, objectKey, SUBNET_CIDR_LOCK } from '../store/neutron-keys.js';
import { underDeletingMarker } from './deleting-marker.js';
import { encodeRecord } from '../store/neutron-store.js';
import type { CalicoSync } from './calico-sync.js';
import { timestamp, type NeutronDeps, type RequestContext, objectBase } from './neutron-deps.js';
import { AGAIN, casRetry } from './cas-retry.js';
import { casUpdate } from './cas-update.js';

export type { SubnetChanges, SubnetInput } from '../resources/index.js';

function checkFamily(what: string, values: readonly string[], family: 4 | 6): void {
  for (const v of values) {
    const ip = parseIp(v);
    if (ip === undefined || ip.family !== family) throw faults.invalidInput(`${what} ${v} is not an IPv${family} address`);
  }
}

/**
 * Takes a subnet's addresses off ports (each port's own update, so its IPAM keys and Calico
 * endpoint follow): how deleting an IPv6 auto-address subnet releases what it handed out.
 */
export type DropPortAddresses = (subnetId: string, portIds: readonly string[]) => Promise<void>;

/** SLAAC and DHCPv6-stateless subnets: ports' addresses come from the prefix, and go with it. */
const isAutoAddress = (s: SubnetRecord): boolean => s.ip_version === 6 && (s.ipv6_address_mode === 'slaac' || s.ipv6_address_mode === 'dhcpv6-stateless');

/** Subnets: no two overlap anywhere in the cloud (Calico's one address space). */
export class SubnetService {
  readonly #d: NeutronDeps;
  readonly #sync: CalicoSync;
  readonly #dropAddresses: DropPortAddresses;

  constructor(deps: NeutronDeps, sync: CalicoSync, dropAddresses: DropPortAddresses) {
    this.#d = deps;
    this.#sync = sync;
    this.#dropAddresses = dropAddresses;
  }

  async list(): Promise<SubnetRecord[]> {
    return (await this.#d.store.list('subnets')).items;
  }

  async get(id: string): Promise<SubnetRecord> {
    const s = await this.#d.store.get('subnets', id);
    if (s === undefined) throw faults.notFound('Subnet', id);
    return s.record;
  }

  async create(ctx: RequestContext, input: SubnetInput): Promise<SubnetRecord> {
    if (input.cidr === undefined) {
      throw faults.badRequest(
        input.subnetpool_id ? 'Subnet pools are not supported by Brindle: give a cidr' : "Failed to parse request. Required attribute 'cidr' not specified",
      );
    }
    if (input.subnetpool_id !== undefined && input.subnetpool_id !== null) throw faults.badRequest('Subnet pools are not supported by Brindle: give a cidr');
    if (input.segment_id !== undefined && input.segment_id !== null) throw faults.badRequest('Routed network segments are not supported by Brindle');
    const plan = planSubnet({ cidr: input.cidr, gatewayIp: input.gateway_ip, allocationPools: input.allocation_pools });
    if (plan.family !== input.ip_version) throw faults.invalidInput(`Cidr ${input.cidr} does not match ip_version ${input.ip_version}`);
    const ra = input.ipv6_ra_mode ?? null;
    const addr = input.ipv6_address_mode ?? null;
    if (plan.family === 4 && (ra !== null || addr !== null)) throw faults.invalidInput('ipv6_ra_mode and ipv6_address_mode are for IPv6 subnets only');
    if (ra !== null && addr !== null && ra !== addr) {
      throw faults.invalidInput(
        `ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${addr}' is not valid. If both attributes are set, they must be the same value`,
      );
    }
    if ((addr === 'slaac' || addr === 'dhcpv6-stateless' || ra === 'slaac' || ra === 'dhcpv6-stateless') && !plan.cidr.endsWith('/64')) {
      throw faults.invalidInput(
        `Invalid CIDR ${plan.cidr} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`,
      );
    }
    checkFamily('DNS nameserver', input.dns_nameservers ?? [], plan.family);
    for (const r of input.host_routes ?? []) checkFamily('host route nexthop', [r.nexthop], plan.family);

    return casRetry(
      this.#d,
      () => {
        throw faults.conflictRetry('Subnet on network', input.network_id);
      },
      async () => {
        const lock = await this.#d.kv.get(SUBNET_CIDR_LOCK);
        const network = await this.#d.store.get('networks', input.network_id);
        if (network === undefined) throw faults.notFound('Network', input.network_id);
        const project = input.project_id ?? input.tenant_id ?? network.record.project_id;
        const range = cidrToRange(plan.cidr);
        const others = (await this.#d.store.list('subnets')).items;
        const clash = others.find((o) => {
          const r = cidrToRange(o.cidr);
          return range !== undefined && r !== undefined && rangesOverlap(range, r);
        });
        if (clash !== undefined) throw faults.overlappingSubnet(plan.cidr, input.network_id, `${clash.cidr} on network ${clash.network_id}`);
        const now = timestamp(this.#d.clock);
        const subnet: SubnetRecord = {
          ...objectBase({ id: this.#d.newId(), project, description: input.description, now, revision: 0 }),
          name: input.name ?? '',
          network_id: input.network_id,
          ip_version: plan.family,
          subnetpool_id: null,
          enable_dhcp: input.enable_dhcp ?? true,
          ipv6_ra_mode: ra,
          ipv6_address_mode: addr,
          gateway_ip: plan.gatewayIp,
          cidr: plan.cidr,
          allocation_pools: plan.allocationPools,
          host_routes: input.host_routes ?? [],
          dns_nameservers: input.dns_nameservers ?? [],
          service_types: input.service_types ?? [],
        };
        const net = {
          ...network.record,
          subnets: [...network.record.subnets, subnet.id],
          revision_number: network.record.revision_number + 1,
          updated_at: now,
        };
        // The lock key serialises subnet creation cloud-wide, so two overlapping creates cannot both pass the check.
        const r = await this.#d.kv.txn({
          compare: [
            lock === undefined
              ? { key: SUBNET_CIDR_LOCK, target: 'version', op: '==', value: 0 }
              : { key: SUBNET_CIDR_LOCK, target: 'modRevision', op: '==', value: lock.modRevision },
            { key: objectKey('networks', net.id), target: 'modRevision', op: '==', value: network.modRevision },
            { key: deletingKey('networks', net.id), target: 'version', op: '==', value: 0 },
          ],
          success: [
            { op: 'put', key: objectKey('subnets', subnet.id), value: encodeRecord(subnet) },
            { op: 'put', key: objectKey('networks', net.id), value: encodeRecord(net) },
            { op: 'put', key: SUBNET_CIDR_LOCK, value: subnet.id },
          ],
        });
        if (r.succeeded) {
          await this.#sync.syncSubnet(subnet.id);
          return subnet;
        }
        return AGAIN;
      },
    );
  }

  async update(id: string, changes: SubnetChanges, ifRevision?: number): Promise<SubnetRecord> {
    return casUpdate(this.#d, { collection: 'subnets', id, ifRevision, resource: 'Subnet' }, async (cur) => {
      const s = cur.record;
      const replan = changes.gateway_ip !== undefined || changes.allocation_pools !== undefined;
      const plan = replan
        ? planSubnet({
            cidr: s.cidr,
            gatewayIp: changes.gateway_ip !== undefined ? changes.gateway_ip : s.gateway_ip,
            allocationPools: changes.allocation_pools ?? s.allocation_pools,
          })
        : undefined;
      if (plan?.gatewayIp !== undefined && plan.gatewayIp !== null && plan.gatewayIp !== s.gateway_ip) {
        const holder = (await this.#d.store.allocatedIps(id)).get(plan.gatewayIp);
        if (holder !== undefined) throw faults.gatewayInUse(plan.gatewayIp, holder);
      }
      checkFamily('DNS nameserver', changes.dns_nameservers ?? [], s.ip_version);
      for (const r of changes.host_routes ?? []) checkFamily('host route nexthop', [r.nexthop], s.ip_version);
      const next: SubnetRecord = {
        ...s,
        ...present({
          name: changes.name,
          description: changes.description,
          dns_nameservers: changes.dns_nameservers,
          host_routes: changes.host_routes,
          enable_dhcp: changes.enable_dhcp,
          service_types: changes.service_types,
        }),
        ...(plan === undefined ? {} : { gateway_ip: plan.gatewayIp, allocation_pools: plan.allocationPools }),
        revision_number: s.revision_number + 1,
        updated_at: timestamp(this.#d.clock),
      };
      const r = await this.#d.kv.put(objectKey('subnets', id), encodeRecord(next), { condition: { modRevision: cur.modRevision } });
      if (r.succeeded) {
        await this.#sync.syncSubnet(id);
        if (next.gateway_ip !== s.gateway_ip) await this.#sync.syncPortsOfNetwork(s.network_id);
        return next;
      }
      return AGAIN;
    });
  }

  /** Deletes a subnet; refused while any port holds an address from it (SubnetInUse). */
  async delete(id: string): Promise<void> {
    const cur = await this.#d.store.get('subnets', id);
    if (cur === undefined) throw faults.notFound('Subnet', id);
    await underDeletingMarker(this.#d, { kind: 'subnets', id, modRevision: cur.modRevision }, async (finish) => {
      // New ports cannot take addresses from it now (the marker); what they hold blocks the delete,
      // except auto-addresses (as Neutron: they are removed from the ports; a router's still block).
      let holders = [...new Set((await this.#d.store.allocatedIps(id)).values())];
      if (holders.length > 0 && isAutoAddress(cur.record)) {
        const ports = await Promise.all(holders.map((p) => this.#d.store.get('ports', p)));
        const routerPorts = ports.filter((p) => p?.record.device_owner.startsWith('network:router_interface') === true).map((p) => p?.record.id ?? '');
        if (routerPorts.length > 0) throw faults.subnetInUse(id, routerPorts);
        await this.#dropAddresses(id, holders);
        holders = [...new Set((await this.#d.store.allocatedIps(id)).values())];
      }
      if (holders.length > 0) throw faults.subnetInUse(id, holders);
      await casRetry(
        this.#d,
        () => {
          throw faults.conflictRetry('Subnet', id);
        },
        async () => {
          const network = await this.#d.store.get('networks', cur.record.network_id);
          const now = timestamp(this.#d.clock);
          const r = await this.#d.kv.txn({
            compare: [
              finish.compare,
              ...(network === undefined
                ? []
                : [{ key: objectKey('networks', network.record.id), target: 'modRevision' as const, op: '==' as const, value: network.modRevision }]),
            ],
            success: [
              { op: 'delete', key: objectKey('subnets', id) },
              ...finish.ops,
              ...(network === undefined
                ? []
                : [
                    {
                      op: 'put' as const,
                      key: objectKey('networks', network.record.id),
                      value: encodeRecord({
                        ...network.record,
                        subnets: network.record.subnets.filter((s) => s !== id),
                        revision_number: network.record.revision_number + 1,
                        updated_at: now,
                      }),
                    },
                  ]),
            ],
          });
          return r.succeeded ? undefined : AGAIN;
        },
      );
      await this.#sync.syncSubnet(id);
    });
  }
}
