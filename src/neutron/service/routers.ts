import { faults } from '../errors.js';
import { present, type RouterChanges, type RouterInput, type RouterInterfaceInput } from '../resources/index.js';
import type { PortRecord, RouterRecord, SubnetRecord } from '../records.js';
import { objectKey } from '../store/neutron-keys.js';
import { encodeRecord } from '../store/neutron-store.js';
import { timestamp, type NeutronDeps, type RequestContext, objectBase } from './neutron-deps.js';
import { AGAIN } from './cas-retry.js';
import { casUpdate } from './cas-update.js';
import type { PortService } from './ports.js';
import { isRouterInterface } from './service-ports.js';

export type { RouterChanges, RouterInput } from '../resources/index.js';

/** The answer of add/remove_router_interface. */
export interface InterfaceInfo {
  readonly id: string;
  readonly tenant_id: string;
  readonly project_id: string;
  readonly port_id: string;
  readonly subnet_id: string;
  readonly subnet_ids: string[];
  readonly network_id: string;
}

const SERVICE_CTX: RequestContext = { projectId: '', isAdmin: true };

/**
 * Routers in Calico's terms: bookkeeping only. Traffic between networks is routed by the hosts
 * whatever routers say; a router's gateway and interfaces tell which subnets may take floating
 * IPs from which external network, as Neutron's L3 database does for networking-calico's core
 * plugin. Interfaces and gateways are ports (so their addresses are taken like any other).
 */
export class RouterService {
  readonly #d: NeutronDeps;
  readonly #ports: PortService;

  constructor(deps: NeutronDeps, ports: PortService) {
    this.#d = deps;
    this.#ports = ports;
  }

  async list(): Promise<RouterRecord[]> {
    return (await this.#d.store.list('routers')).items;
  }

  async get(id: string): Promise<RouterRecord> {
    const r = await this.#d.store.get('routers', id);
    if (r === undefined) throw faults.notFound('Router', id);
    return r.record;
  }

  async create(ctx: RequestContext, input: RouterInput): Promise<RouterRecord> {
    const project = input.project_id ?? input.tenant_id ?? ctx.projectId;
    const id = this.#d.newId();
    const opened = input.external_gateway_info ? await this.#openGateway(ctx, id, input.external_gateway_info) : undefined;
    const gateway = opened?.info ?? null;
    const now = timestamp(this.#d.clock);
    const record: RouterRecord = {
      ...objectBase({ id, project, description: input.description, now, revision: 1 }),
      name: input.name ?? '',
      admin_state_up: input.admin_state_up ?? true,
      status: 'ACTIVE',
      external_gateway_info: gateway,
      routes: [],
      availability_zone_hints: [],
      availability_zones: [],
      flavor_id: null,
    };
    const written = await this.#writeOrUndo(opened, () => this.#d.kv.put(objectKey('routers', id), encodeRecord(record), { condition: { absent: true } }));
    if (!written) throw faults.conflictRetry('Router', id);
    return record;
  }

  async update(ctx: RequestContext, id: string, changes: RouterChanges, ifRevision?: number): Promise<RouterRecord> {
    return casUpdate(this.#d, { collection: 'routers', id, ifRevision, resource: 'Router' }, async (cur) => {
      const old = cur.record;
      const wanted = changes.external_gateway_info;
      const gatewayChanges = wanted !== undefined && (wanted?.network_id !== old.external_gateway_info?.network_id || wanted?.external_fixed_ips !== undefined);
      // The new gateway is made (and checked) before the old one goes: a refused request
      // leaves the router as it was.
      const oldPorts = gatewayChanges ? await this.#gatewayPorts(id) : [];
      if (gatewayChanges && old.external_gateway_info !== null) await this.#refuseIfFloatingIpsNeed(old);
      const opened = gatewayChanges && wanted ? await this.#openGateway(ctx, id, wanted) : undefined;
      const next: RouterRecord = {
        ...old,
        ...present({ name: changes.name, description: changes.description, admin_state_up: changes.admin_state_up }),
        external_gateway_info: gatewayChanges ? (opened?.info ?? null) : old.external_gateway_info,
        revision_number: old.revision_number + 1,
        updated_at: timestamp(this.#d.clock),
      };
      const written = await this.#writeOrUndo(opened, () =>
        this.#d.kv.put(objectKey('routers', id), encodeRecord(next), { condition: { modRevision: cur.modRevision } }),
      );
      if (written) {
        await this.#deletePorts(oldPorts);
        return next;
      }
      return AGAIN;
    });
  }

  /** Refused while the router has interfaces (RouterInUse); its gateway port goes with it. */
  async delete(id: string): Promise<void> {
    const cur = await this.#d.store.get('routers', id);
    if (cur === undefined) throw faults.notFound('Router', id);
    if ((await this.#interfaces(id)).length > 0) throw faults.routerInUse(id);
    const r = await this.#d.kv.delete(objectKey('routers', id), { condition: { modRevision: cur.modRevision } });
    if (!r.succeeded) throw faults.conflictRetry('Router', id);
    // A port left behind by a failure here can be deleted directly: its router is gone.
    await this.#deletePorts(await this.#gatewayPorts(id));
  }

  async addInterface(ctx: RequestContext, id: string, body: RouterInterfaceInput): Promise<InterfaceInfo> {
    const router = await this.#visibleRouter(ctx, id);
    if (body.subnet_id !== undefined && body.port_id !== undefined) throw faults.badResourceRequest('router', 'Cannot specify both subnet-id and port-id');
    const existing = await this.#interfaces(id);
    let port: PortRecord;
    if (body.port_id !== undefined) {
      const p = await this.#d.store.get('ports', body.port_id);
      if (p === undefined || (!ctx.isAdmin && p.record.project_id !== ctx.projectId)) throw faults.notFound('Port', body.port_id);
      if (p.record.device_id !== '' || p.record.device_owner !== '') {
        throw faults.portInUse(p.record.network_id, p.record.id, p.record.device_id);
      }
      if (p.record.fixed_ips.length === 0) throw faults.badResourceRequest('router', `Router port must have at least one fixed IP`);
      for (const f of p.record.fixed_ips) this.#refuseSecondPortOnSubnet(id, existing, f.subnet_id);
      port = await this.#ports.update(SERVICE_CTX, p.record.id, { device_owner: 'network:router_interface', device_id: id });
    } else if (body.subnet_id !== undefined) {
      const subnet = await this.#visibleSubnet(ctx, body.subnet_id);
      if (subnet.gateway_ip === null) throw faults.badResourceRequest('router', 'Subnet for router interface must have a gateway IP');
      this.#refuseSecondPortOnSubnet(id, existing, subnet.id);
      port = await this.#ports.create(SERVICE_CTX, {
        network_id: subnet.network_id,
        tenant_id: router.project_id,
        project_id: router.project_id,
        device_owner: 'network:router_interface',
        device_id: id,
        fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
      });
    } else {
      throw faults.badResourceRequest('router', 'Either subnet_id or port_id must be specified');
    }
    return this.#info(router, port);
  }

  async removeInterface(ctx: RequestContext, id: string, body: RouterInterfaceInput): Promise<InterfaceInfo> {
    const router = await this.#visibleRouter(ctx, id);
    const existing = await this.#interfaces(id);
    let port: PortRecord | undefined;
    if (body.port_id !== undefined) {
      port = existing.find((p) => p.id === body.port_id);
      if (port === undefined || (body.subnet_id !== undefined && !port.fixed_ips.some((f) => f.subnet_id === body.subnet_id)))
        throw faults.routerInterfaceNotFound(id, body.port_id);
    } else if (body.subnet_id !== undefined) {
      const subnetId = body.subnet_id;
      port = existing.find((p) => p.fixed_ips.some((f) => f.subnet_id === subnetId));
      if (port === undefined) throw faults.routerInterfaceNotFoundForSubnet(id, subnetId);
    } else {
      throw faults.badResourceRequest('router', 'Either subnet_id or port_id must be specified');
    }
    const subnets = port.fixed_ips.map((f) => f.subnet_id);
    // A floating IP reaching its port through this interface keeps the interface.
    const fips = (await this.#d.store.list('floatingips')).items.filter((f) => f.router_id === id && f.port_id !== null);
    for (const f of fips) {
      const inner = await this.#d.store.get('ports', f.port_id ?? '');
      const via = inner?.record.fixed_ips.find((x) => x.ip_address === f.fixed_ip_address)?.subnet_id;
      if (via !== undefined && subnets.includes(via)) throw faults.routerInterfaceInUseByFip(id, via);
    }
    await this.#ports.delete(port.id, { internal: true });
    return this.#info(router, port);
  }

  async #visibleRouter(ctx: RequestContext, id: string): Promise<RouterRecord> {
    const r = await this.#d.store.get('routers', id);
    if (r === undefined || (!ctx.isAdmin && r.record.project_id !== ctx.projectId)) throw faults.notFound('Router', id);
    return r.record;
  }

  async #visibleSubnet(ctx: RequestContext, id: string): Promise<SubnetRecord> {
    const s = await this.#d.store.get('subnets', id);
    if (s === undefined || (!ctx.isAdmin && s.record.project_id !== ctx.projectId)) throw faults.notFound('Subnet', id);
    return s.record;
  }

  #refuseSecondPortOnSubnet(routerId: string, existing: readonly PortRecord[], subnetId: string): void {
    if (existing.some((p) => p.fixed_ips.some((f) => f.subnet_id === subnetId)))
      throw faults.badResourceRequest('router', `Router ${routerId} already has a port on subnet ${subnetId}`);
  }

  #info(router: RouterRecord, port: PortRecord): InterfaceInfo {
    const subnetIds = port.fixed_ips.map((f) => f.subnet_id);
    return {
      id: router.id,
      tenant_id: router.project_id,
      project_id: router.project_id,
      port_id: port.id,
      subnet_id: subnetIds[0] ?? '',
      subnet_ids: subnetIds,
      network_id: port.network_id,
    };
  }

  async #interfaces(routerId: string): Promise<PortRecord[]> {
    return (await this.#d.store.list('ports')).items.filter((p) => p.device_id === routerId && isRouterInterface(p.device_owner));
  }

  async #gatewayPorts(routerId: string): Promise<PortRecord[]> {
    return (await this.#d.store.list('ports')).items.filter((p) => p.device_id === routerId && p.device_owner === 'network:router_gateway');
  }

  /** Writes the router; if the write does not land (refused or failed), the gateway port opened for it goes again. */
  async #writeOrUndo(opened: { port: PortRecord } | undefined, write: () => Promise<{ succeeded: boolean }>): Promise<boolean> {
    let written = false;
    try {
      written = (await write()).succeeded;
    } finally {
      if (!written && opened !== undefined) await this.#deletePorts([opened.port]);
    }
    return written;
  }

  async #deletePorts(ports: readonly PortRecord[]): Promise<void> {
    for (const p of ports)
      await this.#ports.delete(p.id, { internal: true }).catch((err: unknown) => this.#d.logger.warn({ err, port: p.id }, 'router: could not delete its port'));
  }

  /** A gateway: the network must be external; a `network:router_gateway` port takes its address. */
  async #openGateway(
    ctx: RequestContext,
    routerId: string,
    info: NonNullable<RouterInput['external_gateway_info']>,
  ): Promise<{ info: NonNullable<RouterRecord['external_gateway_info']>; port: PortRecord }> {
    const n = await this.#d.store.get('networks', info.network_id);
    if (n === undefined || (!ctx.isAdmin && n.record.project_id !== ctx.projectId && !n.record.shared && !n.record['router:external']))
      throw faults.notFound('Network', info.network_id);
    if (!n.record['router:external']) throw faults.badResourceRequest('router', `Network ${info.network_id} is not an external network`);
    const port = await this.#ports.create(SERVICE_CTX, {
      network_id: n.record.id,
      tenant_id: '',
      project_id: '',
      device_owner: 'network:router_gateway',
      device_id: routerId,
      ...(info.external_fixed_ips === undefined ? {} : { fixed_ips: info.external_fixed_ips }),
    });
    return { info: { network_id: n.record.id, external_fixed_ips: port.fixed_ips }, port };
  }

  /** Removing or moving a gateway is refused while floating IPs reach their ports through it. */
  async #refuseIfFloatingIpsNeed(router: RouterRecord): Promise<void> {
    const net = router.external_gateway_info?.network_id ?? '';
    const inUse = (await this.#d.store.list('floatingips')).items.some((f) => f.router_id === router.id && f.port_id !== null);
    if (inUse) throw faults.routerGatewayInUseByFip(router.id, net);
  }
}
