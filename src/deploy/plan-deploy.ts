// What each machine must end up with, from the inventory and the settings: pure, so the whole
// desired state of a cloud can be tested (and shown by --check) without a machine.
import { stringify as toYaml } from 'yaml';
import { API_VERSION } from '../model/index.js';
import type { DeploySettings } from './deploy-settings.js';
import { hasRole, runsNode, type Inventory, type Machine } from './inventory.js';

export interface FileSpec {
  readonly path: string;
  readonly content: string;
  /** Octal mode, e.g. 0644. */
  readonly mode: string;
  readonly group: string;
}

/** A unit the machine runs; any change of the machine's configuration files restarts it. */
export interface ServiceSpec {
  readonly unit: string;
}

export interface MachinePlan {
  readonly machine: Machine;
  /** Debian packages that must be installed (brindle at the version the source offers). */
  readonly packages: readonly string[];
  /** Units the packages bring that must not run (BIRD's own: brindle node runs BIRD). */
  readonly masked: readonly string[];
  /** etcd's configuration, on members only. */
  readonly etcdFiles: readonly FileSpec[];
  readonly files: readonly FileSpec[];
  /** Brindle's services for this machine's roles, in start order. */
  readonly services: readonly ServiceSpec[];
}

export interface DeployPlan {
  readonly machines: readonly MachinePlan[];
  /** Machines taken out of the cloud (inventory `retire: true`). */
  readonly retired: readonly Machine[];
  readonly etcdMembers: readonly Machine[];
  /** The datastore spec every process gets: etcd:URL,URL,... */
  readonly datastore: string;
  /** The controller the cloud-wide steps run on (resources, verification). */
  readonly primary: Machine;
  /** The Calico resources the cloud's settings make, in apply order. */
  readonly resources: readonly CalicoDoc[];
  readonly apiPort: number;
  /** What etcdctl needs on a machine to reach the members (TLS files), or nothing. */
  readonly etcdctlFlags: string;
  /** The same on an etcd member before Brindle's configuration is written (etcd's own copies). */
  readonly etcdctlMemberFlags: string;
}

export interface CalicoDoc {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** etcd's TLS material, as PEM text. */
export interface EtcdTls {
  readonly ca: string;
  /** The members' certificate and key (server and peer). */
  readonly cert: string;
  readonly key: string;
  /** What Brindle's processes present (a client-only pair if the settings give one, else the members'). */
  readonly client: { readonly cert: string; readonly key: string };
}

export const ETCD_DEFAULTS = '/etc/default/etcd';
/** Where Brindle's processes (and etcdctl in deploy's checks) find the etcd client TLS files. */
export const BRINDLE_ETCD_TLS = { ca: '/etc/brindle/etcd-ca.pem', cert: '/etc/brindle/etcd-cert.pem', key: '/etc/brindle/etcd-key.pem' } as const;
const ETCD_TLS = { ca: '/etc/etcd/brindle-ca.pem', cert: '/etc/etcd/brindle-cert.pem', key: '/etc/etcd/brindle-key.pem' } as const;
export const BRINDLE_CONFIG = '/etc/brindle/brindle.yaml';
export const BRINDLE_DEFAULTS = '/etc/default/brindle';
/** Where brindle node serves /readiness on each host. */
export const NODE_HEALTH = '127.0.0.1:9099';

const hostPort = (address: string, port: number): string => `${address.includes(':') ? `[${address}]` : address}:${port}`;

/** A shell word for /etc/default files (sourced by systemd: double quotes, no expansion needed). */
const args = (list: readonly string[]): string => `"${list.join(' ')}"`;

/** The whole desired state. The inventory and settings are already validated (etcd members exist). */
export function planDeploy(inventory: Inventory, settings: DeploySettings, tls?: EtcdTls): DeployPlan {
  const scheme = tls === undefined ? 'http' : 'https';
  const url = (address: string, port: number): string => `${scheme}://${hostPort(address, port)}`;
  const machines = inventory.machines.filter((m) => !m.retire);
  const controllers = machines.filter((m) => hasRole(m, 'controller'));
  const primary = controllers[0];
  if (primary === undefined) throw new Error('planDeploy: the inventory has no controller (the schema should have refused it)');
  const memberNames = settings.etcd.members ?? controllers.map((m) => m.name);
  const etcdMembers = machines.filter((m) => memberNames.includes(m.name));
  const datastore = `etcd:${etcdMembers.map((m) => url(m.address, settings.etcd.clientPort)).join(',')}`;
  const initialCluster = etcdMembers.map((m) => `${m.name}=${url(m.address, settings.etcd.peerPort)}`).join(',');
  return {
    retired: inventory.machines.filter((m) => m.retire),
    machines: machines.map((m) => planMachine(m, settings, { datastore, initialCluster, isMember: memberNames.includes(m.name), url, tls })),
    etcdMembers,
    datastore,
    primary,
    resources: calicoResources(settings),
    apiPort: settings.api.port,
    etcdctlFlags: tls === undefined ? '' : `--cacert=${BRINDLE_ETCD_TLS.ca} --cert=${BRINDLE_ETCD_TLS.cert} --key=${BRINDLE_ETCD_TLS.key}`,
    etcdctlMemberFlags: tls === undefined ? '' : `--cacert=${ETCD_TLS.ca} --cert=${ETCD_TLS.cert} --key=${ETCD_TLS.key}`,
  };
}

interface ClusterFacts {
  readonly datastore: string;
  readonly initialCluster: string;
  readonly isMember: boolean;
  readonly url: (address: string, port: number) => string;
  readonly tls: EtcdTls | undefined;
}

function planMachine(m: Machine, s: DeploySettings, cluster: ClusterFacts): MachinePlan {
  const { url, tls } = cluster;
  const controller = hasRole(m, 'controller');
  const node = runsNode(m);
  const config: Record<string, unknown> = { datastore: cluster.datastore, hostname: m.name, logLevel: 'info' };
  if (tls !== undefined) Object.assign(config, { etcdCaFile: BRINDLE_ETCD_TLS.ca, etcdCertFile: BRINDLE_ETCD_TLS.cert, etcdKeyFile: BRINDLE_ETCD_TLS.key });
  if (controller && s.keystone !== undefined) {
    Object.assign(config, {
      keystoneUrl: s.keystone.url,
      keystoneUsername: s.keystone.username,
      keystonePassword: s.keystone.password,
      keystoneProject: s.keystone.project,
    });
  }
  const apiArgs = controller ? apiArguments(s) : [];
  const consoleOn = controller && s.console.port !== 0;
  const nodeArgs = node ? nodeArguments(m, s) : [];
  const tlsFiles: FileSpec[] =
    tls === undefined
      ? []
      : [
          { path: BRINDLE_ETCD_TLS.ca, content: tls.ca, mode: '0644', group: 'root' },
          { path: BRINDLE_ETCD_TLS.cert, content: tls.client.cert, mode: '0644', group: 'root' },
          { path: BRINDLE_ETCD_TLS.key, content: tls.client.key, mode: '0640', group: 'brindle' },
        ];
  const files: FileSpec[] = [
    ...tlsFiles,
    {
      path: BRINDLE_CONFIG,
      content: `# Written by brindle deploy: changes here are replaced on the next deploy.\n${toYaml(config)}`,
      mode: '0640',
      group: 'brindle',
    },
    {
      path: BRINDLE_DEFAULTS,
      content: [
        '# Written by brindle deploy: changes here are replaced on the next deploy.',
        `BRINDLE_API_ARGS=${args(apiArgs)}`,
        `BRINDLE_NODE_ARGS=${args(nodeArgs)}`,
        'BRINDLE_METADATA_ARGS=""',
        `BRINDLE_CONSOLE_ARGS=${args(consoleOn ? ['--listen', `127.0.0.1:${s.console.port}`] : [])}`,
        '',
      ].join('\n'),
      mode: '0644',
      group: 'root',
    },
  ];
  const etcdTlsLines =
    tls === undefined
      ? []
      : [
          `ETCD_TRUSTED_CA_FILE="${ETCD_TLS.ca}"`,
          `ETCD_CERT_FILE="${ETCD_TLS.cert}"`,
          `ETCD_KEY_FILE="${ETCD_TLS.key}"`,
          'ETCD_CLIENT_CERT_AUTH="true"',
          `ETCD_PEER_TRUSTED_CA_FILE="${ETCD_TLS.ca}"`,
          `ETCD_PEER_CERT_FILE="${ETCD_TLS.cert}"`,
          `ETCD_PEER_KEY_FILE="${ETCD_TLS.key}"`,
          'ETCD_PEER_CLIENT_CERT_AUTH="true"',
        ];
  const etcdFiles: FileSpec[] = cluster.isMember
    ? [
        ...(tls === undefined
          ? []
          : [
              { path: ETCD_TLS.ca, content: tls.ca, mode: '0644', group: 'root' },
              { path: ETCD_TLS.cert, content: tls.cert, mode: '0644', group: 'root' },
              // Debian's etcd runs as the etcd user.
              { path: ETCD_TLS.key, content: tls.key, mode: '0640', group: 'etcd' },
            ]),
        {
          path: ETCD_DEFAULTS,
          content: [
            '# Written by brindle deploy: changes here are replaced on the next deploy.',
            `ETCD_NAME="${m.name}"`,
            'ETCD_DATA_DIR="/var/lib/etcd/default"',
            `ETCD_LISTEN_CLIENT_URLS="${url(m.address, s.etcd.clientPort)},${url('127.0.0.1', s.etcd.clientPort)}"`,
            `ETCD_ADVERTISE_CLIENT_URLS="${url(m.address, s.etcd.clientPort)}"`,
            `ETCD_LISTEN_PEER_URLS="${url(m.address, s.etcd.peerPort)}"`,
            `ETCD_INITIAL_ADVERTISE_PEER_URLS="${url(m.address, s.etcd.peerPort)}"`,
            `ETCD_INITIAL_CLUSTER="${cluster.initialCluster}"`,
            'ETCD_INITIAL_CLUSTER_STATE="new"',
            'ETCD_INITIAL_CLUSTER_TOKEN="brindle"',
            ...etcdTlsLines,
            '',
          ].join('\n'),
          mode: '0644',
          group: 'root',
        },
      ]
    : [];
  const services: ServiceSpec[] = [];
  if (controller) services.push({ unit: 'brindle-api.service' });
  if (consoleOn) services.push({ unit: 'brindle-console.service' });
  if (node) services.push({ unit: 'brindle-node.service' });
  return {
    machine: m,
    packages: ['brindle', ...(cluster.isMember ? ['etcd-server'] : [])],
    masked: ['bird.service'],
    etcdFiles,
    files,
    services,
  };
}

function apiArguments(s: DeploySettings): string[] {
  const a = ['--workers', String(s.api.workers)];
  if (s.keystone !== undefined) a.push('--listen', `0.0.0.0:${s.api.port}`, '--auth', 'keystone');
  // Without Keystone the API answers anyone: it stays on loopback.
  else a.push('--listen', `127.0.0.1:${s.api.port}`);
  if (s.nova !== undefined) a.push('--nova-url', s.nova.url);
  return a;
}

function nodeArguments(m: Machine, s: DeploySettings): string[] {
  const a = ['--health-listen', NODE_HEALTH, '--bgp-as', String(s.asNumber)];
  if (m.bgpAddress !== undefined) a.push('--bgp-address', m.bgpAddress);
  else if (m.bgpInterface !== undefined) a.push('--bgp-interface', m.bgpInterface);
  else a.push('--bgp-address', m.address);
  if (hasRole(m, 'route-reflector')) {
    a.push('--route-reflector-cluster-id', s.bgp.clusterId);
    if (!hasRole(m, 'compute')) a.push('--bgp-only');
  }
  return a;
}

/** The cloud's Calico resources: BGP configuration, external peers, pools, Felix's IPv6 switch (each agent writes its own CalicoNodeStatus). */
export function calicoResources(s: DeploySettings): CalicoDoc[] {
  const doc = (kind: string, name: string, spec: Record<string, unknown>): CalicoDoc => ({ apiVersion: API_VERSION, kind, metadata: { name }, spec });
  const docs: CalicoDoc[] = [
    doc('BGPConfiguration', 'default', { asNumber: s.asNumber, nodeToNodeMeshEnabled: s.bgp.topology === 'mesh', logSeverityScreen: 'Info' }),
    doc('FelixConfiguration', 'default', { ipv6Support: s.ipv6 }),
  ];
  for (const p of s.externalPeers) docs.push(doc('BGPPeer', `external-${p.name}`, { peerIP: p.address, asNumber: p.asNumber }));
  for (const pool of s.ipPools) docs.push(doc('IPPool', `pool-${pool.cidr.replace(/[^0-9a-f]+/gi, '-')}`, { cidr: pool.cidr, natOutgoing: pool.natOutgoing }));
  return docs;
}
