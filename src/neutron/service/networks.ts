import { faults } from '../errors.js';
import { present, type NetworkChanges, type NetworkInput } from '../resources/index.js';
import type { NetworkRecord } from '../records.js';
import { ipPrefix, objectKey, physnetKey } from '../store/neutron-keys.js';
import { underDeletingMarker } from './deleting-marker.js';
import { encodeRecord } from '../store/neutron-store.js';
import type { CalicoSync } from './calico-sync.js';
import { timestamp, type NeutronDeps, type RequestContext, objectBase } from './neutron-deps.js';
import { AGAIN, casRetry } from './cas-retry.js';
import { casUpdate } from './cas-update.js';
import { quotaTxnPart } from './quota-guard.js';
import type { SecurityGroupService } from './security-groups.js';

export type { NetworkChanges, NetworkInput } from '../resources/index.js';

const DEFAULT_MTU = 1500;
const OVERLAYS = new Set(['vlan', 'vxlan', 'gre', 'geneve']);

/** Deletes these floating IPs unless they have been associated with a port meanwhile. */
export type DropFloatingIps = (floatingIpIds: readonly string[]) => Promise<void>;

/** Networks: Calico networks are flat or local provider networks sharing one address space. */
export class NetworkService {
  readonly #d: NeutronDeps;
  readonly #sync: CalicoSync;
  readonly #groups: SecurityGroupService;

  readonly #dropFloatingIps: DropFloatingIps;

  constructor(deps: NeutronDeps, sync: CalicoSync, groups: SecurityGroupService, dropFloatingIps: DropFloatingIps) {
    this.#d = deps;
    this.#sync = sync;
    this.#groups = groups;
    this.#dropFloatingIps = dropFloatingIps;
  }

  async list(): Promise<NetworkRecord[]> {
    return (await this.#d.store.list('networks')).items;
  }

  async get(id: string): Promise<NetworkRecord> {
    const n = await this.#d.store.get('networks', id);
    if (n === undefined) throw faults.notFound('Network', id);
    return n.record;
  }

  async create(ctx: RequestContext, input: NetworkInput): Promise<NetworkRecord> {
    const project = input.project_id ?? input.tenant_id ?? ctx.projectId;
    const type = input['provider:network_type'] ?? 'local';
    if (type !== 'flat' && type !== 'local') {
      throw OVERLAYS.has(type) ? faults.unsupportedNetworkType(type) : faults.invalidInput(`network type ${type} is not known`);
    }
    if (input['provider:segmentation_id'] !== undefined && input['provider:segmentation_id'] !== null) {
      throw faults.invalidInput(`segmentation_id requires a VLAN or tunnel network, and Calico networks are ${type}`);
    }
    const physnet = input['provider:physical_network'] ?? null;
    if (type === 'flat' && physnet === null) throw faults.invalidInput('provider:physical_network is required for flat provider networks');
    if (type === 'local' && physnet !== null) throw faults.invalidInput('provider:physical_network is not allowed on local networks');
    await this.#groups.ensureDefault(project);
    const now = timestamp(this.#d.clock);
    const net: NetworkRecord = {
      ...objectBase({ id: this.#d.newId(), project, description: input.description, now, revision: 1 }),
      name: input.name ?? '',
      admin_state_up: input.admin_state_up ?? true,
      mtu: input.mtu ?? DEFAULT_MTU,
      status: 'ACTIVE',
      subnets: [],
      shared: input.shared ?? false,
      availability_zone_hints: input.availability_zone_hints ?? [],
      availability_zones: [],
      ipv4_address_scope: null,
      ipv6_address_scope: null,
      'router:external': input['router:external'] ?? false,
      port_security_enabled: input.port_security_enabled ?? true,
      'provider:network_type': type,
      'provider:physical_network': physnet,
      'provider:segmentation_id': null,
    };
    return casRetry(
      this.#d,
      () => {
        throw faults.conflictRetry('Quota of project', project);
      },
      async (attempt) => {
        const quota = await quotaTxnPart(this.#d, { project, resource: 'network', delta: 1, attempt });
        const r = await this.#d.kv.txn({
          compare: [...(physnet === null ? [] : [{ key: physnetKey(physnet), target: 'version' as const, op: '==' as const, value: 0 }]), ...quota.compare],
          success: [
            { op: 'put', key: objectKey('networks', net.id), value: encodeRecord(net) },
            ...(physnet === null ? [] : [{ op: 'put' as const, key: physnetKey(physnet), value: net.id }]),
            ...quota.success,
          ],
          failure: physnet === null ? [] : [{ op: 'get', key: physnetKey(physnet) }],
        });
        if (r.succeeded) return net;
        const held = r.results[0];
        if (physnet !== null && held?.op === 'get' && held.kv !== undefined) throw faults.flatNetworkInUse(physnet);
        return AGAIN; // the project's quota or usage moved: read them again
      },
    );
  }

  async update(ctx: RequestContext, id: string, changes: NetworkChanges, ifRevision?: number): Promise<NetworkRecord> {
    return casUpdate(this.#d, { collection: 'networks', id, ifRevision, resource: 'Network' }, async (cur, attempt) => {
      if (changes['router:external'] === false && cur.record['router:external'] && attempt === 0) {
        const held = (await this.#d.store.list('ports')).items.some(
          (p) => p.network_id === id && (p.device_owner === 'network:router_gateway' || p.device_owner === 'network:floatingip'),
        );
        if (held) throw faults.externalNetworkInUse(id);
      }
      const next: NetworkRecord = { ...cur.record, ...present(changes), revision_number: cur.record.revision_number + 1, updated_at: timestamp(this.#d.clock) };
      const r = await this.#d.kv.put(objectKey('networks', id), encodeRecord(next), { condition: { modRevision: cur.modRevision } });
      if (r.succeeded) {
        if (changes.name !== undefined && changes.name !== cur.record.name) await this.#sync.syncPortsOfNetwork(id);
        return next;
      }
      return AGAIN;
    });
  }

  /** Deletes a network and its subnets; refused while ports use it (NetworkInUse). */
  async delete(id: string): Promise<void> {
    const cur = await this.#d.store.get('networks', id);
    if (cur === undefined) throw faults.notFound('Network', id);
    await underDeletingMarker(this.#d, { kind: 'networks', id, modRevision: cur.modRevision }, async (finish) => {
      // As Neutron: an external network's floating IPs that lead nowhere go with it (no new one
      // can be made meanwhile: the marker), but only once nothing else holds the network;
      // associated ones keep their ports, which block.
      const onNetwork = async () => (await this.#d.store.list('ports')).items.filter((p) => p.network_id === id);
      const loose = cur.record['router:external']
        ? (await this.#d.store.list('floatingips')).items.filter((f) => f.floating_network_id === id && f.port_id === null)
        : [];
      const loosePorts = new Set(loose.map((f) => f.floating_port_id));
      const blocking = (await onNetwork()).filter((p) => !loosePorts.has(p.id));
      if (blocking.length > 0)
        throw faults.networkInUse(
          id,
          blocking.map((p) => p.id),
        );
      if (loose.length > 0) await this.#dropFloatingIps(loose.map((f) => f.id));
      const ports = await onNetwork();
      if (ports.length > 0)
        throw faults.networkInUse(
          id,
          ports.map((p) => p.id),
        );
      const now = await this.#d.store.get('networks', id);
      if (now === undefined) return;
      const net = now.record;
      const physnet = net['provider:physical_network'];
      const quota = await quotaTxnPart(this.#d, { project: net.project_id, resource: 'network', delta: -1, attempt: 1 });
      const r = await this.#d.kv.txn({
        compare: [finish.compare, { key: objectKey('networks', id), target: 'modRevision', op: '==', value: now.modRevision }, ...quota.compare],
        success: [
          ...quota.success,
          { op: 'delete', key: objectKey('networks', id) },
          ...finish.ops,
          ...net.subnets.flatMap((s) => [
            { op: 'delete' as const, key: objectKey('subnets', s) },
            { op: 'deletePrefix' as const, prefix: ipPrefix(s) },
          ]),
          ...(physnet === null ? [] : [{ op: 'delete' as const, key: physnetKey(physnet) }]),
        ],
      });
      if (!r.succeeded) throw faults.conflictRetry('Network', id);
      for (const s of net.subnets) await this.#sync.syncSubnet(s);
    });
  }
}
