// The console benchmark's datastore: a synthetic cloud written straight into an embedded store,
// shaped as Brindle's writers shape it (Nodes, CalicoNodeStatuses, agents' host and endpoint
// status keys, WorkloadEndpoints, ossg policies, and Neutron's networks, subnets, ports).
import type { KvStore, TxnOp } from '../../src/datastore/index.js';
import { API_VERSION, felixEndpointStatusKey, felixHostStatusKey, resourceKey } from '../../src/model/index.js';
import { collectionPrefix } from '../../src/neutron/index.js';

export const NS = 'openstack-region-no-region';

export interface CloudShape {
  readonly hosts: number;
  readonly endpoints: number;
  readonly reflectors: number;
  readonly networks: number;
  readonly groups: number;
}

export const hostName = (i: number): string => `host-${String(i).padStart(4, '0')}`;
/** Host i's fabric address (198.18.0.0/16). */
const hostIp = (i: number): string => `198.18.${(i >> 8) & 255}.${i & 255}`;
/** Endpoint i's address (198.19.0.0/16). */
export const endpointIp = (i: number): string => `198.19.${(i >> 8) & 255}.${i & 255}`;
const uuid = (kind: number, i: number): string => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
export const vmId = (i: number): string => uuid(1, i);
export const portId = (i: number): string => uuid(2, i);
const netId = (i: number): string => uuid(3, i);
const subnetId = (i: number): string => uuid(4, i);
const sgId = (i: number): string => uuid(5, i);

const res = (kind: string, name: string, spec: object, meta: object = {}): string =>
  JSON.stringify({ apiVersion: API_VERSION, kind, metadata: { name, ...meta }, spec });

/** One VM port as networking-calico writes it: the endpoint, the port, and the agent's status. */
export function endpointOps(i: number, host: string, shape: CloudShape): TxnOp[] {
  const vm = vmId(i);
  const port = portId(i);
  const name = `${host}-openstack-${vm}-${port}`;
  const sg = sgId(i % shape.groups);
  const net = i % shape.networks;
  return [
    {
      op: 'put',
      key: resourceKey({ kind: 'WorkloadEndpoint', namespace: NS, name }),
      value: res(
        'WorkloadEndpoint',
        name,
        {
          orchestrator: 'openstack',
          workload: vm,
          node: host,
          endpoint: port,
          interfaceName: `tap${port.slice(0, 11)}`,
          mac: 'fa:16:3e:00:00:01',
          ipNetworks: [`${endpointIp(i)}/32`],
        },
        {
          namespace: NS,
          labels: {
            [`sg.projectcalico.org/openstack-${sg}`]: `group-${i % shape.groups}`,
            'projectcalico.org/namespace': NS,
            'projectcalico.org/orchestrator': 'openstack',
          },
        },
      ),
    },
    {
      op: 'put',
      key: `${collectionPrefix('ports')}${port}`,
      value: JSON.stringify({
        id: port,
        name: `vm-${i}-port`,
        network_id: netId(net),
        device_id: vm,
        device_owner: 'compute:nova',
        status: 'ACTIVE',
        fixed_ips: [{ subnet_id: subnetId(net), ip_address: endpointIp(i) }],
        security_groups: [sg],
        'binding:host_id': host,
      }),
    },
    { op: 'put', key: felixEndpointStatusKey('no-region', { host, workload: vm, endpoint: port }), value: JSON.stringify({ status: 'up' }) },
  ];
}

/** Everything but the endpoints, then the endpoints, in transactions of `batch` ops. */
export async function writeSyntheticCloud(kv: KvStore, shape: CloudShape, progress: (done: number, total: number) => void, batch = 300): Promise<void> {
  const ops: TxnOp[] = [];
  const now = new Date().toISOString();
  const rrs = Array.from({ length: shape.reflectors }, (_, r) => ({ name: `rr-${r + 1}`, ip: `198.18.255.${r + 1}` }));
  ops.push({
    op: 'put',
    key: resourceKey({ kind: 'BGPConfiguration', name: 'default' }),
    value: res('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
  });
  for (const rr of rrs)
    ops.push({
      op: 'put',
      key: resourceKey({ kind: 'Node', name: rr.name }),
      value: res('Node', rr.name, { bgp: { ipv4Address: `${rr.ip}/16`, routeReflectorClusterID: '224.0.0.1' } }),
    });
  for (let h = 0; h < shape.hosts; h++) {
    const name = hostName(h);
    ops.push({ op: 'put', key: resourceKey({ kind: 'Node', name }), value: res('Node', name, { bgp: { ipv4Address: `${hostIp(h)}/16` } }) });
    ops.push({ op: 'put', key: felixHostStatusKey('no-region', name), value: JSON.stringify({ time: now, uptime: 3600, first_update: false }) });
    const peers = rrs.map((rr) => ({ peerIP: rr.ip, type: 'RouteReflector', state: 'Established', since: now }));
    ops.push({
      op: 'put',
      key: resourceKey({ kind: 'CalicoNodeStatus', name }),
      value: JSON.stringify({
        apiVersion: API_VERSION,
        kind: 'CalicoNodeStatus',
        metadata: { name },
        spec: { node: name, classes: ['Agent', 'BGP'] },
        status: {
          lastUpdated: now,
          bgp: { numberEstablishedV4: peers.length, numberEstablishedV6: 0, numberNotEstablishedV4: 0, numberNotEstablishedV6: 0, peersV4: peers },
        },
      }),
    });
  }
  for (let n = 0; n < shape.networks; n++) {
    ops.push({
      op: 'put',
      key: `${collectionPrefix('networks')}${netId(n)}`,
      value: JSON.stringify({ id: netId(n), name: `net-${n}`, project_id: 'bench', shared: false, 'router:external': false, subnets: [subnetId(n)] }),
    });
    ops.push({
      op: 'put',
      key: `${collectionPrefix('subnets')}${subnetId(n)}`,
      value: JSON.stringify({
        id: subnetId(n),
        name: `subnet-${n}`,
        network_id: netId(n),
        ip_version: 4,
        cidr: '198.19.0.0/16',
        gateway_ip: null,
        allocation_pools: [{ start: '198.19.0.1', end: '198.19.255.254' }],
      }),
    });
  }
  for (let g = 0; g < shape.groups; g++) {
    const name = `ossg.default.${sgId(g)}`;
    ops.push({
      op: 'put',
      key: `${collectionPrefix('security-groups')}${sgId(g)}`,
      value: JSON.stringify({ id: sgId(g), name: `group-${g}`, description: '' }),
    });
    ops.push({
      op: 'put',
      key: resourceKey({ kind: 'NetworkPolicy', namespace: NS, name }),
      value: res(
        'NetworkPolicy',
        name,
        {
          order: 10,
          selector: `has(sg.projectcalico.org/openstack-${sgId(g)})`,
          types: ['Ingress', 'Egress'],
          ingress: [{ action: 'Allow', ipVersion: 4, protocol: 'TCP', destination: { ports: [22] } }],
          egress: [{ action: 'Allow' }],
        },
        { namespace: NS },
      ),
    });
  }
  for (let i = 0; i < shape.endpoints; i++) ops.push(...endpointOps(i, hostName(i % shape.hosts), shape));
  for (let at = 0; at < ops.length; at += batch) {
    await kv.txn({ compare: [], success: ops.slice(at, at + batch) });
    progress(Math.min(ops.length, at + batch), ops.length);
  }
}
