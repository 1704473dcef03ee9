import { dhcpSubnetKey } from '../../model/index.js';
import type { FloatingIpRecord, PortRecord, SecurityGroupRuleRecord } from '../records.js';
import { fipPortPrefix } from '../store/neutron-keys.js';
import type { Stored } from '../store/neutron-store.js';
import { endpointNameForPort, portToEndpoint, portWantsEndpoint, securityGroupToPolicy, subnetToDhcp, policyName } from '../translate/index.js';
import { type NeutronDeps } from './neutron-deps.js';
import { AGAIN, CAS_ATTEMPTS, casRetry } from './cas-retry.js';

/**
 * A group's rules in policy order: the order they were made (the datastore's create revision;
 * a default group's, made in one transaction, IPv4 first).
 */
export function rulesInPolicyOrder(rules: readonly Stored<SecurityGroupRuleRecord>[], sgId: string): SecurityGroupRuleRecord[] {
  return rules
    .filter((r) => r.record.security_group_id === sgId)
    .sort((a, b) => a.createRevision - b.createRevision || a.record.ethertype.localeCompare(b.record.ethertype) || a.record.id.localeCompare(b.record.id))
    .map((r) => r.record);
}

/** Ports Calico treats as workload endpoints (networking-calico `_port_is_endpoint_port`). */
export function isEndpointPort(port: PortRecord): boolean {
  return port.device_owner.startsWith('compute:') || port.device_owner === 'kuryr:container';
}

/**
 * networking-calico's "make the Calico side match Neutron for this slot" functions. Each reads
 * the Calico key first, then re-reads the Neutron objects (never trusting what the caller
 * holds), then writes or deletes guarded on the revision it read, retrying a few times; a slot
 * that still loses is left to the start-up resync. So concurrent API servers converge on the
 * stored truth, and a late update can never resurrect a deleted endpoint.
 */
export class CalicoSync {
  readonly #d: NeutronDeps;

  constructor(deps: NeutronDeps) {
    this.#d = deps;
  }

  /** The WorkloadEndpoint of a port; `previous` names where it was before (host or device moved). */
  /**
   * Reads a Calico resource, then brings the cache of Neutron's objects up to the datastore: the
   * discipline (read the Calico key, then the source of truth, write if the key is unchanged)
   * needs the Neutron side read after the Calico key, not from a cache that may predate it.
   */
  async #readCalico(...args: Parameters<NeutronDeps['resources']['readEntry']>): ReturnType<NeutronDeps['resources']['readEntry']> {
    const seen = await this.#d.resources.readEntry(...args);
    await this.#d.store.sync();
    return seen;
  }

  async syncPort(portId: string, previous?: PortRecord): Promise<void> {
    const ns = this.#d.namespace;
    if (previous !== undefined && portWantsEndpoint(previous)) {
      const now = await this.#d.store.get('ports', portId);
      const oldName = endpointNameForPort(previous);
      if (now === undefined || !this.#wants(now.record) || endpointNameForPort(now.record) !== oldName) {
        await this.#retry(`endpoint ${oldName}`, async () => {
          const seen = await this.#readCalico('WorkloadEndpoint', oldName, ns);
          const current = await this.#d.store.get('ports', portId);
          const stillThere = current !== undefined && this.#wants(current.record) && endpointNameForPort(current.record) === oldName;
          if (stillThere) return true;
          return this.#d.resources.writeIfUnchanged({ kind: 'WorkloadEndpoint', name: oldName, namespace: ns }, seen, undefined);
        });
      }
    }
    await this.#retry(`port ${portId}`, async () => {
      const first = await this.#d.store.get('ports', portId);
      if (first === undefined || !this.#wants(first.record)) return true;
      const name = endpointNameForPort(first.record);
      const seen = await this.#readCalico('WorkloadEndpoint', name, ns);
      const port = await this.#d.store.get('ports', portId);
      if (port === undefined || !this.#wants(port.record) || endpointNameForPort(port.record) !== name) {
        return this.#d.resources.writeIfUnchanged({ kind: 'WorkloadEndpoint', name, namespace: ns }, seen, undefined);
      }
      const network = await this.#d.store.get('networks', port.record.network_id);
      if (network === undefined) return true;
      const subnets = await this.#d.store.getMany('subnets', [...new Set(port.record.fixed_ips.map((f) => f.subnet_id))]);
      const groups = await this.#d.store.getMany('security-groups', port.record.security_groups);
      const floatingIps = await this.#floatingIpsOf(portId);
      const wep = portToEndpoint({
        floatingIps,
        port: port.record,
        network: network.record,
        subnets: new Map([...subnets].map(([id, s]) => [id, s.record])),
        securityGroups: new Map([...groups].map(([id, g]) => [id, g.record])),
        namespace: ns,
      });
      return this.#d.resources.writeIfUnchanged({ kind: 'WorkloadEndpoint', name, namespace: ns }, seen, wep);
    });
  }

  /** Removes the endpoint a deleted port had. */
  async removePortEndpoint(port: PortRecord): Promise<void> {
    if (!this.#wants(port)) return;
    const name = endpointNameForPort(port);
    await this.#retry(`endpoint ${name}`, async () => {
      const seen = await this.#readCalico('WorkloadEndpoint', name, this.#d.namespace);
      if ((await this.#d.store.get('ports', port.id)) !== undefined) return true;
      return this.#d.resources.writeIfUnchanged({ kind: 'WorkloadEndpoint', name, namespace: this.#d.namespace }, seen, undefined);
    });
  }

  /** The NetworkPolicy `ossg.default.<sg-id>`. */
  async syncSecurityGroup(sgId: string): Promise<void> {
    const ns = this.#d.namespace;
    const name = policyName(sgId);
    await this.#retry(`security group ${sgId}`, async () => {
      const seen = await this.#readCalico('NetworkPolicy', name, ns);
      const sg = await this.#d.store.get('security-groups', sgId);
      if (sg === undefined) return this.#d.resources.writeIfUnchanged({ kind: 'NetworkPolicy', name, namespace: ns }, seen, undefined);
      const rules = rulesInPolicyOrder(await this.#d.store.listInCreationOrder('security-group-rules'), sgId);
      return this.#d.resources.writeIfUnchanged({ kind: 'NetworkPolicy', name, namespace: ns }, seen, securityGroupToPolicy(sg.record, rules, ns));
    });
  }

  /** The DHCP agent's subnet record (present only while DHCP is enabled). */
  async syncSubnet(subnetId: string): Promise<void> {
    const key = dhcpSubnetKey(this.#d.regionString, subnetId);
    await this.#retry(`subnet ${subnetId}`, async () => {
      const seen = await this.#d.kv.get(key);
      // Neutron's side read after the Calico key, as new as the datastore (see #readCalico).
      await this.#d.store.sync();
      const subnet = await this.#d.store.get('subnets', subnetId);
      const desired = subnet === undefined ? undefined : subnetToDhcp(subnet.record);
      const guard = seen === undefined ? { absent: true as const } : { modRevision: seen.modRevision };
      if (desired === undefined) return seen === undefined ? true : (await this.#d.kv.delete(key, { condition: guard })).succeeded;
      const value = JSON.stringify(desired);
      if (seen?.value === value) return true;
      return (await this.#d.kv.put(key, value, { condition: guard })).succeeded;
    });
  }

  /** Every endpoint on a network (a subnet's gateway or the network's name changed). */
  async syncPortsOfNetwork(networkId: string): Promise<void> {
    const ports = (await this.#d.store.list('ports')).items.filter((p) => p.network_id === networkId);
    for (const p of ports) await this.syncPort(p.id);
  }

  /** Every endpoint carrying a security group (its name, hence a label, changed). */
  async syncPortsWithSecurityGroup(sgId: string): Promise<void> {
    const ports = (await this.#d.store.list('ports')).items.filter((p) => p.security_groups.includes(sgId));
    for (const p of ports) await this.syncPort(p.id);
  }

  /** The floating IPs associated with a port, found by its association keys. */
  async #floatingIpsOf(portId: string): Promise<FloatingIpRecord[]> {
    const { items } = await this.#d.kv.list(fipPortPrefix(portId));
    if (items.length === 0) return [];
    const found = await this.#d.store.getMany('floatingips', [...new Set(items.map((kv) => kv.value))]);
    return [...found.values()].map((f) => f.record).filter((f) => f.port_id === portId);
  }

  #wants(port: PortRecord): boolean {
    return isEndpointPort(port) && portWantsEndpoint(port);
  }

  async #retry(what: string, attempt: () => Promise<boolean>): Promise<void> {
    await casRetry(
      this.#d,
      () => this.#d.logger.warn({ slot: what, attempts: CAS_ATTEMPTS }, 'calico sync lost the compare-and-swap race every time; the resync will repair it'),
      async () => ((await attempt()) ? undefined : AGAIN),
    );
  }
}
