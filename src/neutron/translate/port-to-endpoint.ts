import { API_VERSION, hostCidr, parseCidr, parseIp, sanitizeLabel, tapInterfaceName, workloadEndpointName, type WorkloadEndpoint } from '../../model/index.js';
import type { FloatingIpRecord, NetworkRecord, PortRecord, SecurityGroupRecord, SubnetRecord } from '../records.js';

export const SG_LABEL_PREFIX = 'sg.projectcalico.org/openstack-';
export const SG_NAME_LABEL_PREFIX = 'sg-name.projectcalico.org/openstack-';
const NETWORK_ID_ANNOTATION = 'openstack.projectcalico.org/network-id';

/** What a port's WorkloadEndpoint is built from (all re-read from the datastore by the caller). */
export interface EndpointInputs {
  readonly port: PortRecord;
  readonly network: NetworkRecord;
  readonly subnets: ReadonlyMap<string, SubnetRecord>;
  readonly securityGroups: ReadonlyMap<string, SecurityGroupRecord>;
  readonly namespace: string;
  /** The port's floating IPs (those whose `port_id` is this port). */
  readonly floatingIps?: readonly FloatingIpRecord[];
}

/** One `ipNATs` entry per floating IP on the port, ordered by external address (networking-calico §1.6). */
function ipNats(port: PortRecord, fips: readonly FloatingIpRecord[]): { internalIP: string; externalIP: string }[] {
  return fips
    .filter((f) => f.port_id === port.id && f.fixed_ip_address !== null)
    .map((f) => ({ internalIP: f.fixed_ip_address ?? '', externalIP: f.floating_ip_address }))
    .sort((a, b) => a.externalIP.localeCompare(b.externalIP) || a.internalIP.localeCompare(b.internalIP));
}

/** networking-calico's presence rule: a bound endpoint port has a WorkloadEndpoint on its host. */
export function portWantsEndpoint(port: PortRecord): boolean {
  return port['binding:host_id'] !== '' && port['binding:vif_type'] !== 'unbound' && port['binding:vif_type'] !== 'binding_failed';
}

export function endpointNameForPort(port: PortRecord): string {
  return workloadEndpointName({ node: port['binding:host_id'], orchestrator: 'openstack', workload: port.device_id, endpoint: port.id });
}

/** An allowed-address-pair as a route: a CIDR as given, an address as /32 or /128. */
function pairCidr(ip: string): string | undefined {
  if (ip.includes('/')) return parseCidr(ip) === undefined ? undefined : ip;
  const parsed = parseIp(ip);
  return parsed === undefined ? undefined : hostCidr(parsed);
}

function sgLabels(port: PortRecord, groups: ReadonlyMap<string, SecurityGroupRecord>): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!port.port_security_enabled) return labels;
  for (const id of port.security_groups) {
    const name = sanitizeLabel(groups.get(id)?.name ?? '');
    labels[`${SG_LABEL_PREFIX}${id}`] = name;
    const nameKey = sanitizeLabel(groups.get(id)?.name ?? '', 63 - SG_NAME_LABEL_PREFIX.length);
    if (nameKey !== '') labels[`${SG_NAME_LABEL_PREFIX}${nameKey}`] = id;
  }
  return labels;
}

/**
 * The Calico WorkloadEndpoint for a bound port, exactly as networking-calico writes it
 * (reference/networking-calico.md §1.6): labels for security groups and project, the network
 * id annotation, fixed IPs then allowed-address-pair IPs as host routes, gateways of the
 * subnets of the (last) v4 and v6 fixed IPs. `creationTimestamp`/`uid` are the writer's job.
 */
export function portToEndpoint(inputs: EndpointInputs): WorkloadEndpoint {
  const { port, network, subnets } = inputs;
  const fixed = port.fixed_ips.map((f) => parseIp(f.ip_address)).filter((p) => p !== undefined);
  const pairs = port.allowed_address_pairs.map((p) => pairCidr(p.ip_address)).filter((p): p is string => p !== undefined);
  let ipv4Gateway: string | undefined;
  let ipv6Gateway: string | undefined;
  for (const f of port.fixed_ips) {
    const gw = subnets.get(f.subnet_id)?.gateway_ip ?? undefined;
    const family = parseIp(f.ip_address)?.family;
    if (gw === undefined || gw === null) continue;
    if (family === 4) ipv4Gateway = gw;
    if (family === 6) ipv6Gateway = gw;
  }
  const labels: Record<string, string> = {
    ...sgLabels(port, inputs.securityGroups),
    'projectcalico.org/namespace': inputs.namespace,
    'projectcalico.org/orchestrator': 'openstack',
    'projectcalico.org/openstack-project-id': port.project_id,
  };
  const nats = ipNats(port, inputs.floatingIps ?? []);
  const networkName = sanitizeLabel(network.name);
  if (networkName !== '') labels['projectcalico.org/openstack-network-name'] = networkName;
  return {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: endpointNameForPort(port),
      namespace: inputs.namespace,
      labels,
      annotations: { [NETWORK_ID_ANNOTATION]: port.network_id },
    },
    spec: {
      orchestrator: 'openstack',
      workload: port.device_id,
      node: port['binding:host_id'],
      endpoint: port.id,
      interfaceName: tapInterfaceName(port.id),
      mac: port.mac_address,
      ipNetworks: [...fixed.map(hostCidr), ...pairs],
      allowedIps: pairs,
      ...(ipv4Gateway === undefined ? {} : { ipv4Gateway }),
      ...(ipv6Gateway === undefined ? {} : { ipv6Gateway }),
      ...(nats.length === 0 ? {} : { ipNATs: nats }),
    },
  };
}
