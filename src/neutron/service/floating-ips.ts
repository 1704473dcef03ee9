import { AGAIN, casRetry } from './cas-retry.js';
import { casUpdate } from './cas-update.js';
import { parseIp } from '../../model/index.js';
import { faults, NeutronApiError } from '../errors.js';
import { present, type FloatingIpChanges, type FloatingIpInput } from '../resources/index.js';
import type { FloatingIpRecord, NetworkRecord, PortRecord } from '../records.js';
import { fipPortKey, ipKey, macKey, objectKey } from '../store/neutron-keys.js';
import { encodeRecord, type Stored } from '../store/neutron-store.js';
import type { PortEvents } from '../status/nova-notifier.js';
import type { CalicoSync } from './calico-sync.js';
import { timestamp, type NeutronDeps, type RequestContext, objectBase } from './neutron-deps.js';
import type { PortService } from './ports.js';
import { routerForFloatingIp } from './router-for-floating-ip.js';

export type { FloatingIpChanges, FloatingIpInput } from '../resources/index.js';

/** Where a floating IP points: a port's fixed IPv4 address, reached through a router. */
interface Association {
  readonly port: PortRecord;
  /** The port's mod revision when it was checked: the association's transaction requires it. */
  readonly portRevision: number;
  readonly fixedIp: string;
  readonly routerId: string;
}

const SERVICE_CTX: RequestContext = { projectId: '', isAdmin: true };

/**
 * Floating IPs, as networking-calico's core plugin serves them: the address is a
 * `network:floatingip` port on an external network (so IPAM, quotas of addresses and "in use"
 * are the ports' own), and an association becomes an `ipNATs` entry on the port's
 * WorkloadEndpoint, from which the agent on the VM's host programs DNAT and the /32 route that
 * BGP carries to the other hosts and the border.
 */
export class FloatingIpService {
  readonly #d: NeutronDeps;
  readonly #ports: PortService;
  readonly #sync: CalicoSync;
  readonly #events: PortEvents;

  constructor(deps: NeutronDeps, ports: PortService, sync: CalicoSync, events: PortEvents) {
    this.#d = deps;
    this.#ports = ports;
    this.#sync = sync;
    this.#events = events;
  }

  async list(): Promise<FloatingIpRecord[]> {
    return (await this.#d.store.list('floatingips')).items;
  }

  async get(id: string): Promise<FloatingIpRecord> {
    const f = await this.#d.store.get('floatingips', id);
    if (f === undefined) throw faults.notFound('FloatingIP', id);
    return f.record;
  }

  async create(ctx: RequestContext, input: FloatingIpInput): Promise<FloatingIpRecord> {
    const project = input.project_id ?? input.tenant_id ?? ctx.projectId;
    if (input.fixed_ip_address !== undefined && input.fixed_ip_address !== null && typeof input.port_id !== 'string') {
      throw faults.badResourceRequest('floatingip', 'fixed_ip_address cannot be specified without a port_id');
    }
    if (input.floating_ip_address !== undefined && parseIp(input.floating_ip_address)?.family !== 4) {
      throw faults.badResourceRequest('floatingip', `Floating IP ${input.floating_ip_address} is not an IPv4 address: Calico maps floating IPs with IPv4 NAT`);
    }
    const network = await this.#externalNetwork(input.floating_network_id);
    const id = this.#d.newId();
    // Every check that can refuse comes before anything is written.
    const assoc =
      typeof input.port_id === 'string'
        ? await this.#association(ctx, { project, network, fipId: id, portId: input.port_id, fixedIp: input.fixed_ip_address ?? undefined })
        : undefined;
    const firstV4 = await this.#firstIpv4Subnet(network);
    if (input.subnet_id !== undefined && (await this.#d.store.get('subnets', input.subnet_id))?.record.ip_version === 6) {
      throw faults.badResourceRequest('floatingip', `Subnet ${input.subnet_id} is an IPv6 subnet: Calico maps floating IPs with IPv4 NAT`);
    }
    const held = await this.#ports.create(SERVICE_CTX, {
      network_id: network.id,
      tenant_id: '',
      project_id: '',
      device_owner: 'network:floatingip',
      device_id: id,
      fixed_ips:
        input.floating_ip_address !== undefined
          ? [{ ip_address: input.floating_ip_address, ...(input.subnet_id === undefined ? {} : { subnet_id: input.subnet_id }) }]
          : [{ subnet_id: input.subnet_id ?? firstV4 }],
    });
    const address = held.fixed_ips[0]?.ip_address;
    const now = timestamp(this.#d.clock);
    const record: FloatingIpRecord = {
      ...objectBase({ id, project, description: input.description, now, revision: 0 }),
      floating_network_id: network.id,
      floating_ip_address: address ?? '',
      router_id: assoc?.routerId ?? null,
      port_id: assoc?.port.id ?? null,
      fixed_ip_address: assoc?.fixedIp ?? null,
      status: assoc === undefined ? 'DOWN' : 'ACTIVE',
      floating_port_id: held.id,
    };
    const succeeded = await this.#d.kv
      .txn({
        compare: [{ key: objectKey('floatingips', id), target: 'version', op: '==', value: 0 }, ...this.#associationGuards(record, assoc)],
        success: [{ op: 'put', key: objectKey('floatingips', id), value: encodeRecord(record) }, ...this.#associationOps(record, assoc)],
      })
      .then(
        (r) => r.succeeded,
        async (err: unknown) => {
          // The reply may have been lost after the commit: the id is ours, so look before undoing.
          if ((await this.#d.store.get('floatingips', id).catch(() => undefined)) !== undefined) return true;
          await this.#releaseAddress(held.id);
          throw err;
        },
      );
    if (!succeeded) {
      await this.#releaseAddress(held.id);
      throw await this.#whyRefused(record, assoc);
    }
    if (assoc !== undefined) await this.#portChanged(assoc.port);
    return record;
  }

  async update(ctx: RequestContext, id: string, changes: FloatingIpChanges, ifRevision?: number): Promise<FloatingIpRecord> {
    return casUpdate(this.#d, { collection: 'floatingips', id, ifRevision, resource: 'FloatingIP' }, async (cur) => {
      const old = cur.record;
      const portId = changes.port_id !== undefined ? changes.port_id : old.port_id;
      const fixed = changes.port_id !== undefined ? (changes.fixed_ip_address ?? undefined) : (changes.fixed_ip_address ?? old.fixed_ip_address ?? undefined);
      const network = await this.#externalNetwork(old.floating_network_id);
      const assoc = portId === null ? undefined : await this.#association(ctx, { project: old.project_id, network, fipId: id, portId, fixedIp: fixed });
      const next: FloatingIpRecord = {
        ...old,
        ...present({ description: changes.description }),
        port_id: assoc?.port.id ?? null,
        fixed_ip_address: assoc?.fixedIp ?? null,
        router_id: assoc?.routerId ?? null,
        status: assoc === undefined ? 'DOWN' : 'ACTIVE',
        revision_number: old.revision_number + 1,
        updated_at: timestamp(this.#d.clock),
      };
      const oldKey = old.port_id !== null && old.fixed_ip_address !== null ? fipPortKey(old.port_id, old.floating_network_id, old.fixed_ip_address) : undefined;
      const newKey = assoc === undefined ? undefined : fipPortKey(assoc.port.id, old.floating_network_id, assoc.fixedIp);
      const keep = oldKey !== undefined && oldKey === newKey;
      const r = await this.#d.kv.txn({
        compare: [
          { key: objectKey('floatingips', id), target: 'modRevision', op: '==', value: cur.modRevision },
          ...(keep ? [] : this.#associationGuards(next, assoc)),
        ],
        success: [
          { op: 'put', key: objectKey('floatingips', id), value: encodeRecord(next) },
          ...(oldKey === undefined || keep ? [] : [{ op: 'delete' as const, key: oldKey }]),
          ...(keep ? [] : this.#associationOps(next, assoc)),
        ],
      });
      if (r.succeeded) {
        if (old.port_id !== next.port_id || old.fixed_ip_address !== next.fixed_ip_address) {
          const before = old.port_id === null ? undefined : await this.#d.store.get('ports', old.port_id);
          if (before !== undefined) await this.#portChanged(before.record);
          if (assoc !== undefined && assoc.port.id !== old.port_id) await this.#portChanged(assoc.port);
        }
        return next;
      }
      // A fault that names a reason ends it; a plain conflict (the floating IP or its port moved on) plans again.
      const why = await this.#whyRefused(next, assoc);
      if (why.type !== 'HTTPConflict') throw why;
      return AGAIN;
    });
  }

  /**
   * Deletes these floating IPs if they are still not associated (an external network's deletion
   * takes them); ones gone or associated meanwhile are left (the association's transaction and
   * this one compare the same record).
   */
  async deleteUnassociated(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      await this.delete(id, { onlyUnassociated: true }).catch((err: unknown) => {
        if (!(err instanceof NeutronApiError && err.status === 404)) throw err;
      });
    }
  }

  /** Releases a floating IP: the record, its association and its address go in one transaction. */
  async delete(id: string, o: { onlyUnassociated?: boolean } = {}): Promise<void> {
    await casRetry(
      this.#d,
      () => {
        throw faults.conflictRetry('FloatingIP', id);
      },
      async () => {
        const cur = await this.#d.store.get('floatingips', id);
        if (cur === undefined) throw faults.notFound('FloatingIP', id);
        const f = cur.record;
        if (o.onlyUnassociated === true && f.port_id !== null) return undefined;
        const held = await this.#d.store.get('ports', f.floating_port_id);
        const r = await this.#d.kv.txn({
          compare: [
            { key: objectKey('floatingips', id), target: 'modRevision', op: '==', value: cur.modRevision },
            held === undefined
              ? { key: objectKey('ports', f.floating_port_id), target: 'version', op: '==', value: 0 }
              : { key: objectKey('ports', f.floating_port_id), target: 'modRevision', op: '==', value: held.modRevision },
          ],
          success: [
            { op: 'delete', key: objectKey('floatingips', id) },
            ...(f.port_id !== null && f.fixed_ip_address !== null
              ? [{ op: 'delete' as const, key: fipPortKey(f.port_id, f.floating_network_id, f.fixed_ip_address) }]
              : []),
            ...(held === undefined
              ? []
              : [
                  { op: 'delete' as const, key: objectKey('ports', held.record.id) },
                  ...held.record.fixed_ips.map((x) => ({ op: 'delete' as const, key: ipKey(x.subnet_id, x.ip_address) })),
                  { op: 'delete' as const, key: macKey(held.record.network_id, held.record.mac_address) },
                ]),
          ],
        });
        if (r.succeeded) {
          if (f.port_id !== null) {
            const port = await this.#d.store.get('ports', f.port_id);
            if (port !== undefined) await this.#portChanged(port.record);
          }
          return undefined;
        }
        return AGAIN;
      },
    );
  }

  async #releaseAddress(portId: string): Promise<void> {
    await this.#ports
      .delete(portId, { internal: true })
      .catch((err: unknown) => this.#d.logger.error({ err, port: portId }, 'floating IP: could not release the address of a floating IP that was not made'));
  }

  async #externalNetwork(id: string): Promise<NetworkRecord> {
    const n = await this.#d.store.get('networks', id);
    if (n === undefined) throw faults.notFound('Network', id);
    if (!n.record['router:external']) throw faults.badResourceRequest('floatingip', `Network ${id} is not a valid external network`);
    return n.record;
  }

  async #firstIpv4Subnet(network: NetworkRecord): Promise<string> {
    const subnets = await this.#d.store.getMany('subnets', network.subnets);
    const v4 = network.subnets.find((s) => subnets.get(s)?.record.ip_version === 4);
    if (v4 === undefined) throw faults.badResourceRequest('floatingip', `Network ${network.id} does not contain any IPv4 subnet`);
    return v4;
  }

  /** Neutron's checks for associating a floating IP with a port (l3_db `_internal_fip_assoc_data`). */
  async #association(
    ctx: RequestContext,
    o: { project: string; network: NetworkRecord; fipId: string; portId: string; fixedIp: string | undefined },
  ): Promise<Association> {
    const stored = await this.#d.store.get('ports', o.portId);
    // Another project's port does not exist as far as a member can tell.
    if (stored === undefined || (!ctx.isAdmin && stored.record.project_id !== ctx.projectId)) throw faults.notFound('Port', o.portId);
    const port = stored.record;
    if (port.project_id !== o.project) {
      throw faults.badResourceRequest(
        'floatingip',
        `Cannot process floating IP association with Port ${port.id}, since that port is owned by a different tenant`,
      );
    }
    if (port.device_owner.startsWith('network:'))
      throw faults.badResourceRequest('floatingip', `Port ${port.id} has device owner ${port.device_owner} and cannot be associated with a floating IP`);
    let fixed: { subnet_id: string; ip_address: string } | undefined;
    if (o.fixedIp !== undefined) {
      if (parseIp(o.fixedIp)?.family !== 4)
        throw faults.badResourceRequest('floatingip', `Cannot process floating IP association with ${o.fixedIp}, since that is not an IPv4 address`);
      fixed = port.fixed_ips.find((f) => f.ip_address === o.fixedIp);
      if (fixed === undefined) throw faults.badResourceRequest('floatingip', `Port ${port.id} does not have fixed ip ${o.fixedIp}`);
    } else {
      const v4 = port.fixed_ips.filter((f) => parseIp(f.ip_address)?.family === 4);
      if (v4.length === 0) throw faults.badResourceRequest('floatingip', `Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`);
      if (v4.length > 1)
        throw faults.badResourceRequest(
          'floatingip',
          `Port ${port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`,
        );
      fixed = v4[0];
    }
    if (fixed === undefined) throw faults.badResourceRequest('floatingip', `Port ${port.id} has no usable fixed IP`);
    const routerId = await routerForFloatingIp(this.#d, o.network.id, fixed.subnet_id);
    if (routerId === undefined) throw faults.externalGatewayNotFound(fixed.subnet_id, o.network.id, port.id);
    const holder = await this.#d.kv.get(fipPortKey(port.id, o.network.id, fixed.ip_address));
    if (holder !== undefined && holder.value !== o.fipId) throw await this.#alreadyAssociated(holder.value, port.id, fixed.ip_address, o.network.id);
    return { port, portRevision: stored.modRevision, fixedIp: fixed.ip_address, routerId };
  }

  /**
   * The port is as it was checked (so its fixed IP is still its own) and that fixed IP has no
   * other floating IP on this network. The association also rewrites the port record unchanged
   * (`#associationOps`): a port update that would release the fixed IP meanwhile then loses its
   * compare-and-swap and, retrying, sees the association and refuses.
   */
  #associationGuards(f: FloatingIpRecord, assoc: Association | undefined) {
    if (assoc === undefined) return [];
    return [
      { key: objectKey('ports', assoc.port.id), target: 'modRevision' as const, op: '==' as const, value: assoc.portRevision },
      { key: fipPortKey(assoc.port.id, f.floating_network_id, assoc.fixedIp), target: 'version' as const, op: '==' as const, value: 0 },
    ];
  }

  #associationOps(f: FloatingIpRecord, assoc: Association | undefined) {
    if (assoc === undefined) return [];
    return [
      { op: 'put' as const, key: fipPortKey(assoc.port.id, f.floating_network_id, assoc.fixedIp), value: f.id },
      { op: 'put' as const, key: objectKey('ports', assoc.port.id), value: encodeRecord(assoc.port) },
    ];
  }

  /** After a refused transaction: the fault that says why. */
  async #whyRefused(f: FloatingIpRecord, assoc: Association | undefined): Promise<NeutronApiError> {
    if (assoc === undefined) return faults.conflictRetry('FloatingIP', f.id);
    if ((await this.#d.store.get('ports', assoc.port.id)) === undefined) return faults.notFound('Port', assoc.port.id);
    const holder = await this.#d.kv.get(fipPortKey(assoc.port.id, f.floating_network_id, assoc.fixedIp));
    if (holder !== undefined && holder.value !== f.id) return this.#alreadyAssociated(holder.value, assoc.port.id, assoc.fixedIp, f.floating_network_id);
    return faults.conflictRetry('FloatingIP', f.id);
  }

  async #alreadyAssociated(otherFipId: string, portId: string, fixedIp: string, networkId: string): Promise<NeutronApiError> {
    const other: Stored<FloatingIpRecord> | undefined = await this.#d.store.get('floatingips', otherFipId);
    return faults.fipPortAssociated({ address: other?.record.floating_ip_address ?? '?', fipId: otherFipId, portId, fixedIp, networkId });
  }

  /** The port's endpoint carries its floating IPs (`ipNATs`); Nova hears network-changed. */
  async #portChanged(port: PortRecord): Promise<void> {
    await this.#sync
      .syncPort(port.id)
      .catch((err: unknown) =>
        this.#d.logger.warn(
          { port: port.id, err: err instanceof Error ? err.message : String(err) },
          'calico sync failed after a floating IP change; the resync will repair it',
        ),
      );
    this.#events.floatingIpChanged(port);
  }
}
