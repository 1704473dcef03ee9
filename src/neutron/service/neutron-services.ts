import type { PortEvents } from '../status/nova-notifier.js';
import { AgentService } from './agents.js';
import { CalicoSync } from './calico-sync.js';
import { FloatingIpService } from './floating-ips.js';
import { RouterService } from './routers.js';
import type { NeutronDeps } from './neutron-deps.js';
import { NetworkService } from './networks.js';
import { PortService } from './ports.js';
import { QuotaService } from './quotas.js';
import { SecurityGroupService } from './security-groups.js';
import { SubnetService } from './subnets.js';

/** Every Neutron service, wired to one set of dependencies. */
export interface NeutronServices {
  readonly deps: NeutronDeps;
  readonly sync: CalicoSync;
  readonly networks: NetworkService;
  readonly subnets: SubnetService;
  readonly ports: PortService;
  readonly groups: SecurityGroupService;
  readonly agents: AgentService;
  readonly quotas: QuotaService;
  readonly routers: RouterService;
  readonly floatingIps: FloatingIpService;
  readonly events: PortEvents;
}

export function createNeutronServices(deps: NeutronDeps, events: PortEvents): NeutronServices {
  const sync = new CalicoSync(deps);
  const groups = new SecurityGroupService(deps, sync);
  const ports = new PortService(deps, sync, groups, events);
  const floatingIps = new FloatingIpService(deps, ports, sync, events);
  return {
    deps,
    sync,
    groups,
    networks: new NetworkService(deps, sync, groups, (ids) => floatingIps.deleteUnassociated(ids)),
    subnets: new SubnetService(deps, sync, (subnetId, portIds) => ports.dropSubnetAddresses(subnetId, portIds)),
    ports,
    routers: new RouterService(deps, ports),
    floatingIps,
    agents: new AgentService(deps),
    quotas: new QuotaService(deps),
    events,
  };
}
