import { describeError } from '../../lib/index.js';
import { faults, NeutronApiError } from '../errors.js';
import { present } from '../resources/index.js';
import type { NetworkRecord, PortRecord, SubnetRecord } from '../records.js';
import { fipPortPrefix, ipKey, macKey, objectKey } from '../store/neutron-keys.js';
import { encodeRecord } from '../store/neutron-store.js';
import type { CalicoSync } from './calico-sync.js';
import { fixedIpChanges } from './fixed-ip-changes.js';
import { timestamp, type NeutronDeps, type RequestContext } from './neutron-deps.js';
import { AGAIN, casRetry } from './cas-retry.js';
import { casUpdate } from './cas-update.js';
import { planAddresses, randomMac, type PlannedIp } from './port-addresses.js';
import { quotaTxnPart } from './quota-guard.js';
import { bindPort, type Binding } from './port-binding.js';
import { claimPort, claimPorts, raiseClaimFailure, type PortClaim } from './port-claim.js';
import { disassociatePort } from './disassociate-port.js';
import { BULK_SYNC_WIDTH, bulkChunks, type PortChanges, type PortInput, type PreparedPort } from './port-input.js';
import { syncAfterCommit } from './sync-after-commit.js';

export type { PortChanges, PortInput } from './port-input.js';
import type { SecurityGroupService } from './security-groups.js';
import { isRouterInterface, serviceOwnerExists } from './service-ports.js';
import type { PortEvents } from '../status/nova-notifier.js';

/** Brindle acting on its own behalf (not a caller's request): admin, no project. */
const SERVICE_CONTEXT: RequestContext = { projectId: '', isAdmin: true };

/** Ports: addresses and MACs claimed by create-only keys, binding, and the endpoint sync. */
export class PortService {
  readonly #d: NeutronDeps;
  readonly #sync: CalicoSync;
  readonly #groups: SecurityGroupService;
  readonly #events: PortEvents;

  constructor(deps: NeutronDeps, sync: CalicoSync, groups: SecurityGroupService, events: PortEvents) {
    this.#d = deps;
    this.#sync = sync;
    this.#groups = groups;
    this.#events = events;
  }

  async list(): Promise<PortRecord[]> {
    return (await this.#d.store.list('ports')).items;
  }

  /** Ports whose `attribute` is one of `values`, from the cache's index; undefined without a cache. */
  listWhere(attribute: string, values: readonly string[]): PortRecord[] | undefined {
    return this.#d.store.listWhere('ports', attribute, values);
  }

  async get(id: string): Promise<PortRecord> {
    const p = await this.#d.store.get('ports', id);
    if (p === undefined) throw faults.notFound('Port', id);
    return p.record;
  }

  async create(ctx: RequestContext, input: PortInput): Promise<PortRecord> {
    const p = await this.#prepare(ctx, input);
    return casRetry(
      this.#d,
      () => {
        throw faults.ipGenerationFailure(p.network.id);
      },
      async (attempt) => {
        const [claim, quota] = await Promise.all([
          this.#plan(p, { attempt, reserved: new Set(), bindings: new Map() }),
          p.project === '' ? undefined : quotaTxnPart(this.#d, { project: p.project, resource: 'port', delta: 1, attempt }),
        ]);
        const failure = await claimPorts(this.#d, [claim], quota);
        if (failure === undefined) {
          if (claim.port['binding:host_id'] !== '') await this.#syncAfterCommit(claim.port.id);
          return claim.port;
        }
        raiseClaimFailure(failure, p.network);
        return AGAIN;
      },
    );
  }

  /**
   * Neutron's bulk create: all ports or none. Every input is checked first; the ports then go
   * in as few transactions as etcd allows (`BULK_TXN_BUDGET` compares per transaction: about
   * 30 ports each), and if a later transaction fails for good the ones before are deleted.
   */
  async createBulk(ctx: RequestContext, inputs: readonly PortInput[]): Promise<PortRecord[]> {
    const prepared = await Promise.all(inputs.map((input) => this.#prepare(ctx, input)));
    const made: PortRecord[] = [];
    try {
      for (const chunk of bulkChunks(prepared)) made.push(...(await this.#createChunk(chunk)));
    } catch (err) {
      for (const port of made.reverse()) {
        await this.delete(port.id, { internal: true }).catch((undoErr: unknown) =>
          this.#d.logger.error({ port: port.id, err: describeError(undoErr) }, 'bulk create: could not undo a port after a later one failed'),
        );
      }
      throw err;
    }
    const bound = made.filter((port) => port['binding:host_id'] !== '');
    for (let i = 0; i < bound.length; i += BULK_SYNC_WIDTH)
      await Promise.all(bound.slice(i, i + BULK_SYNC_WIDTH).map((port) => this.#syncAfterCommit(port.id)));
    return made;
  }

  /** One transaction's worth of a bulk create, retried as a whole when a pick collides. */
  async #createChunk(chunk: readonly PreparedPort[]): Promise<PortRecord[]> {
    const first = chunk[0];
    if (first === undefined) return [];
    return casRetry(
      this.#d,
      () => {
        throw faults.ipGenerationFailure(first.network.id);
      },
      async (attempt) => {
        const reserved = new Set<string>();
        const bindings = new Map<string, Promise<Binding>>();
        // A retry lists each subnet's allocations once for the whole chunk, not once per port.
        const allocations = new Map<string, Promise<Map<string, string>>>();
        const claims: PortClaim[] = [];
        for (const p of chunk) claims.push(await this.#plan(p, { attempt, reserved, bindings, allocations }));
        const perProject = new Map<string, number>();
        for (const p of chunk) if (p.project !== '') perProject.set(p.project, (perProject.get(p.project) ?? 0) + 1);
        const parts = await Promise.all([...perProject].map(([project, n]) => quotaTxnPart(this.#d, { project, resource: 'port', delta: n, attempt })));
        const failure = await claimPorts(this.#d, claims, { compare: parts.flatMap((q) => q.compare), success: parts.flatMap((q) => q.success) });
        if (failure === undefined) return claims.map((c) => c.port);
        const culprit = failure.kind === 'requested-mac' ? chunk.find((p) => p.input.mac_address === failure.mac) : undefined;
        raiseClaimFailure(failure, (culprit ?? first).network);
        return AGAIN;
      },
    );
  }

  /** Everything about a new port that does not change between attempts: checks, reads, its id. */
  async #prepare(ctx: RequestContext, input: PortInput): Promise<PreparedPort> {
    const project = input.project_id ?? input.tenant_id ?? ctx.projectId;
    const deviceOwner = input.device_owner ?? '';
    // The common case needs the project's default group: read it alongside the network.
    const wantsDefault = input.security_groups === undefined && input.port_security_enabled !== false && !deviceOwner.startsWith('network:');
    const [network, defaultGroup] = await Promise.all([
      this.#d.store.get('networks', input.network_id),
      wantsDefault ? this.#groups.ensureDefault(project) : Promise.resolve(undefined),
    ]);
    if (network === undefined) throw faults.notFound('Network', input.network_id);
    const portSecurity = input.port_security_enabled ?? network.record.port_security_enabled;
    const groups =
      defaultGroup !== undefined && portSecurity ? [defaultGroup] : await this.#securityGroups(project, deviceOwner, portSecurity, input.security_groups);
    const pairs = this.#addressPairs(portSecurity, input.allowed_address_pairs, input.mac_address ?? '');
    const subnets = await this.#subnetsOf(network.record);
    return { input, project, deviceOwner, network: network.record, subnets, portSecurity, groups, pairs, id: this.#d.newId() };
  }

  /**
   * One attempt's port: a MAC, addresses (none of `reserved`, which it extends: the ports of one
   * bulk transaction must not pick the same), its binding (shared per host in `bindings`).
   */
  async #plan(
    p: PreparedPort,
    o: { attempt: number; reserved: Set<string>; bindings: Map<string, Promise<Binding>>; allocations?: Map<string, Promise<Map<string, string>>> },
  ): Promise<PortClaim> {
    const { input, network } = p;
    const { attempt, reserved, bindings } = o;
    let mac = input.mac_address ?? randomMac(this.#d.random);
    while (input.mac_address === undefined && reserved.has(mac)) mac = randomMac(this.#d.random);
    const host = input['binding:host_id'] ?? '';
    const vnic = input['binding:vnic_type'] ?? 'normal';
    const bindingKey = `${host}\u0000${vnic}\u0000${network.id}`;
    const binding = bindings.get(bindingKey) ?? bindPort(this.#d, host, network, vnic);
    bindings.set(bindingKey, binding);
    const [ips, bound] = await Promise.all([
      planAddresses(
        this.#d,
        {
          network,
          subnets: p.subnets,
          mac,
          portId: p.id,
          attempt,
          reserved,
          ...(o.allocations === undefined ? {} : { allocations: o.allocations }),
          allowGateway: isRouterInterface(p.deviceOwner),
        },
        input.fixed_ips,
      ),
      binding,
    ]);
    reserved.add(mac);
    for (const ip of ips) reserved.add(ip.ip_address);
    const now = timestamp(this.#d.clock);
    const port: PortRecord = {
      id: p.id,
      name: input.name ?? '',
      tenant_id: p.project,
      project_id: p.project,
      description: input.description ?? '',
      tags: [],
      created_at: now,
      updated_at: now,
      revision_number: 1,
      network_id: network.id,
      mac_address: mac,
      admin_state_up: input.admin_state_up ?? true,
      status: 'DOWN',
      device_id: input.device_id ?? '',
      device_owner: p.deviceOwner,
      fixed_ips: ips.map(({ subnet_id, ip_address }) => ({ subnet_id, ip_address })),
      port_security_enabled: p.portSecurity,
      security_groups: p.groups,
      'binding:vnic_type': vnic,
      'binding:profile': input['binding:profile'] ?? {},
      ...bound,
      allowed_address_pairs: p.pairs.map((pair) => ({ ip_address: pair.ip_address, mac_address: pair.mac_address ?? mac })),
      extra_dhcp_opts: input.extra_dhcp_opts ?? [],
    };
    return {
      port,
      options: { portRevision: undefined, newIps: ips, releasedIps: [], newMac: mac, oldMac: undefined, macRequested: input.mac_address !== undefined },
    };
  }

  /** `changes` may be computed from the port as each attempt reads it (a change relative to what it holds). */
  async update(ctx: RequestContext, id: string, change: PortChanges | ((old: PortRecord) => PortChanges), ifRevision?: number): Promise<PortRecord> {
    return casUpdate(this.#d, { collection: 'ports', id, ifRevision, resource: 'Port' }, async (cur, attempt) => {
      const old = cur.record;
      const changes = typeof change === 'function' ? change(old) : change;
      const network = await this.#d.store.get('networks', old.network_id);
      if (network === undefined) throw faults.notFound('Network', old.network_id);
      const portSecurity = changes.port_security_enabled ?? old.port_security_enabled;
      const groups =
        changes.security_groups !== undefined
          ? await this.#securityGroups(old.project_id, changes.device_owner ?? old.device_owner, portSecurity, changes.security_groups)
          : !portSecurity && old.security_groups.length > 0 && changes.port_security_enabled === false
            ? this.#raisePortSecurity()
            : old.security_groups;
      const mac = changes.mac_address ?? old.mac_address;
      if (changes.mac_address !== undefined && changes.mac_address !== old.mac_address && old['binding:vif_type'] !== 'unbound') {
        throw faults.portBound(id, old['binding:vif_type'], old.mac_address, changes.mac_address);
      }
      const pairs =
        changes.allowed_address_pairs !== undefined ? this.#addressPairs(portSecurity, changes.allowed_address_pairs, mac) : old.allowed_address_pairs;
      if (!portSecurity && pairs.length > 0) throw faults.addressPairsNeedSecurity();
      let ips: PlannedIp[] = old.fixed_ips.map((f) => ({ ...f, requested: true }));
      let newIps: PlannedIp[] = [];
      let releasedIps: PlannedIp[] = [];
      if (changes.fixed_ips !== undefined) {
        const { kept, wanted, released } = fixedIpChanges(old.fixed_ips, changes.fixed_ips);
        const subnets = await this.#subnetsOf(network.record);
        const planned = await planAddresses(
          this.#d,
          { network: network.record, subnets, mac, portId: id, attempt, reserved: new Set(kept.map((k) => k.ip_address)) },
          wanted,
        );
        ips = [...kept, ...planned];
        newIps = planned;
        releasedIps = released;
        if (releasedIps.length > 0) await this.#refuseReleasingFloatingTarget(old, releasedIps);
      }
      const host = changes['binding:host_id'] !== undefined ? (changes['binding:host_id'] ?? '') : old['binding:host_id'];
      const vnic = changes['binding:vnic_type'] ?? old['binding:vnic_type'];
      // As ML2: re-bind only when the host or vnic type changes, or to retry a failed binding.
      const binding =
        host !== old['binding:host_id'] || vnic !== old['binding:vnic_type'] || (old['binding:vif_type'] === 'binding_failed' && host !== '')
          ? await bindPort(this.#d, host, network.record, vnic)
          : { 'binding:host_id': old['binding:host_id'], 'binding:vif_type': old['binding:vif_type'], 'binding:vif_details': old['binding:vif_details'] };
      const next: PortRecord = {
        ...old,
        ...present({
          name: changes.name,
          description: changes.description,
          admin_state_up: changes.admin_state_up,
          device_id: changes.device_id,
          device_owner: changes.device_owner,
          extra_dhcp_opts: changes.extra_dhcp_opts,
        }),
        ...(changes['binding:profile'] === undefined ? {} : { 'binding:profile': changes['binding:profile'] ?? {} }),
        'binding:vnic_type': vnic,
        ...binding,
        mac_address: mac,
        fixed_ips: ips.map(({ subnet_id, ip_address }) => ({ subnet_id, ip_address })),
        port_security_enabled: portSecurity,
        security_groups: groups,
        allowed_address_pairs: pairs.map((p) => ({ ip_address: p.ip_address, mac_address: p.mac_address ?? mac })),
        // Unbinding returns a port to DOWN: no agent reports on it any more.
        status: binding['binding:vif_type'] === old['binding:vif_type'] && binding['binding:host_id'] === old['binding:host_id'] ? old.status : 'DOWN',
        revision_number: old.revision_number + 1,
        updated_at: timestamp(this.#d.clock),
      };
      const failure = await claimPort(this.#d, next, {
        portRevision: cur.modRevision,
        newIps,
        releasedIps,
        newMac: mac !== old.mac_address ? mac : undefined,
        oldMac: mac !== old.mac_address ? old.mac_address : undefined,
        macRequested: true,
      });
      if (failure === undefined) {
        await this.#syncAfterCommit(id, old);
        this.#events.portUpdated(old, next);
        return next;
      }
      raiseClaimFailure(failure, network.record);
      return AGAIN;
    });
  }

  /** Takes a subnet's addresses off these ports (an auto-address subnet being deleted); ports already gone are skipped. */
  async dropSubnetAddresses(subnetId: string, portIds: readonly string[]): Promise<void> {
    for (const id of portIds) {
      await this.update(SERVICE_CONTEXT, id, (old) => ({ fixed_ips: old.fixed_ips.filter((f) => f.subnet_id !== subnetId) })).catch((err: unknown) => {
        if (!(err instanceof NeutronApiError && err.status === 404)) throw err;
      });
    }
  }

  /** Deletes a port; `internal` when a router or floating IP removes its own port. */
  async delete(id: string, o: { internal?: boolean } = {}): Promise<PortRecord> {
    return casRetry(
      this.#d,
      () => {
        throw faults.conflictRetry('Port', id);
      },
      async (attempt) => {
        const cur = await this.#d.store.get('ports', id);
        if (cur === undefined) throw faults.notFound('Port', id);
        const p = cur.record;
        if (o.internal !== true && (await serviceOwnerExists(this.#d, p))) throw faults.servicePortInUse(id, p.device_owner);
        const quota = p.project_id === '' ? undefined : await quotaTxnPart(this.#d, { project: p.project_id, resource: 'port', delta: -1, attempt });
        const r = await this.#d.kv.txn({
          compare: [{ key: objectKey('ports', id), target: 'modRevision', op: '==', value: cur.modRevision }, ...(quota?.compare ?? [])],
          success: [
            ...(quota?.success ?? []),
            { op: 'delete', key: objectKey('ports', id) },
            ...p.fixed_ips.map((f) => ({ op: 'delete' as const, key: ipKey(f.subnet_id, f.ip_address) })),
            { op: 'delete', key: macKey(p.network_id, p.mac_address) },
          ],
        });
        if (r.succeeded) {
          // As Neutron: the port's floating IPs stay allocated, disassociated. After the delete, so
          // an association racing with it either lands first (and is undone here) or fails on the
          // port being gone.
          await disassociatePort(this.#d, id).catch((err: unknown) =>
            this.#d.logger.error(
              { port: id, err: describeError(err) },
              'port deleted, but its floating IPs could not be disassociated; update them (port_id null)',
            ),
          );
          await syncAfterCommit(this.#d, id, () => this.#sync.removePortEndpoint(p));
          this.#events.portDeleted(p);
          return p;
        }
        return AGAIN;
      },
    );
  }

  /**
   * Sets a port's status from an agent's endpoint report, but only if the report is about the
   * port as it is now: bound to that host, for that instance (a stale report about the port's
   * previous host or VM must not flip it). Tells Nova of a change; returns whether one was made.
   */
  async setStatus(id: string, status: PortRecord['status'], from: { host: string; workload: string }): Promise<boolean> {
    return casRetry(
      this.#d,
      () => {
        throw faults.conflictRetry('Port', id);
      },
      async () => {
        const cur = await this.#d.store.get('ports', id);
        if (cur === undefined || cur.record.status === status) return false;
        if (cur.record['binding:host_id'] !== from.host || cur.record.device_id !== from.workload) {
          this.#d.logger.debug({ port: id, host: from.host, workload: from.workload }, "port status report ignored: not from the port's host and instance");
          return false;
        }
        const next = { ...cur.record, status, revision_number: cur.record.revision_number + 1, updated_at: timestamp(this.#d.clock) };
        const r = await this.#d.kv.put(objectKey('ports', id), encodeRecord(next), { condition: { modRevision: cur.modRevision } });
        if (r.succeeded) {
          this.#events.portStatusChanged(cur.record, next);
          return true;
        }
        return AGAIN;
      },
    );
  }

  /** The Calico side of a committed change to a port. */
  #syncAfterCommit(id: string, previous?: PortRecord): Promise<void> {
    return syncAfterCommit(this.#d, id, () => this.#sync.syncPort(id, previous));
  }

  async #subnetsOf(network: NetworkRecord): Promise<SubnetRecord[]> {
    const found = await this.#d.store.getMany('subnets', network.subnets);
    return network.subnets.map((id) => found.get(id)?.record).filter((s): s is SubnetRecord => s !== undefined);
  }

  async #securityGroups(project: string, deviceOwner: string, portSecurity: boolean, requested: readonly string[] | undefined): Promise<string[]> {
    if (requested === undefined) {
      if (!portSecurity || deviceOwner.startsWith('network:')) return [];
      return [await this.#groups.ensureDefault(project)];
    }
    if (!portSecurity && requested.length > 0) this.#raisePortSecurity();
    const found = await this.#d.store.getMany('security-groups', requested);
    // As Neutron's _get_security_groups_on_port: only the port's project's groups (or shared
    // ones); another project's group is as good as missing, whoever asks.
    for (const id of requested) {
      const g = found.get(id)?.record;
      if (g === undefined || (g.project_id !== project && !g.shared)) throw faults.notFound('SecurityGroup', id);
    }
    return [...new Set(requested)];
  }

  /** A fixed IP a floating IP leads to stays until the floating IP is moved or released. */
  async #refuseReleasingFloatingTarget(port: PortRecord, released: readonly PlannedIp[]): Promise<void> {
    const { items } = await this.#d.kv.list(fipPortPrefix(port.id));
    for (const link of items) {
      const fixed = link.key.slice(link.key.lastIndexOf('/') + 1);
      if (released.some((r) => r.ip_address === fixed)) throw faults.ipInUse(port.network_id, fixed);
    }
  }

  #raisePortSecurity(): never {
    throw faults.portSecurityRequired();
  }

  #addressPairs(portSecurity: boolean, pairs: PortInput['allowed_address_pairs'], mac: string): { ip_address: string; mac_address?: string }[] {
    if (pairs === undefined || pairs.length === 0) return [];
    if (!portSecurity) throw faults.addressPairsNeedSecurity();
    return pairs.map((p) => ({ ip_address: p.ip_address, ...((p.mac_address ?? mac) ? { mac_address: p.mac_address ?? mac } : {}) }));
  }
}
