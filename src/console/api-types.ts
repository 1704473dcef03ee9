// The console's HTTP API, as the server sends it and the page reads it. Types only, no
// imports: the browser bundle (web/) and the server both compile against this file.

/** The settings page's form: what the Fuel plugin's page collected, over Calico's resources. */
export interface SettingsForm {
  /** The cloud's AS number as typed (plain, or dotted like 1.10). */
  asNumber: string;
  /** Node-to-node mesh between hosts that are not reflectors. */
  mesh: boolean;
  /** The cluster id every reflector gets (an IPv4 address or a number). */
  reflectorClusterId: string;
  /** The nodes that reflect routes. */
  reflectorNodes: string[];
  /**
   * Each reflector's cluster id as stored (read-only: shown, and compared to find someone
   * else's change). A cluster id typed into reflectorClusterId goes to every reflector; left
   * as loaded, each reflector keeps its own and a new one gets reflectorClusterId.
   */
  reflectorIds: Record<string, string>;
  externalPeers: ExternalPeerForm[];
  ipPools: IpPoolForm[];
  /** Felix's IPv6 support (FelixConfiguration default ipv6Support). */
  ipv6: boolean;
}

export interface ExternalPeerForm {
  name: string;
  /** The router's address (`IP`, `IPv4:port` or `[IPv6]:port`). */
  peerIP: string;
  asNumber: string;
  /** Peers from this one node only (empty: see nodeSelector). */
  node: string;
  /** Peers from the nodes this selector picks (both empty: every node). */
  nodeSelector: string;
}

export interface IpPoolForm {
  name: string;
  cidr: string;
  natOutgoing: boolean;
  disabled: boolean;
}

export interface FieldChange {
  field: string;
  from: string;
  to: string;
}

/** One resource the settings would write or delete. */
export interface SettingsChange {
  action: 'create' | 'update' | 'delete';
  kind: string;
  name: string;
  fields: FieldChange[];
}

/** GET /api/settings */
export interface SettingsReply {
  form: SettingsForm;
  /** Node names to choose reflectors from. */
  nodes: string[];
}

/** POST /api/settings/plan and /api/settings/apply: `base` is the form as it was loaded. */
export interface SettingsRequest {
  base: SettingsForm;
  desired: SettingsForm;
}

export interface PlanReply {
  changes: SettingsChange[];
  warnings: string[];
}

export interface ApplyReply extends PlanReply {
  form: SettingsForm;
}

export interface FieldError {
  /** `asNumber`, `reflectorNodes`, `externalPeers[0].peerIP`, `ipPools[1].cidr`, ... */
  field: string;
  message: string;
}

/** Something someone else changed since the page loaded the settings. */
export interface Conflict {
  what: string;
  was: string;
  now: string;
}

/** Every error reply: `{ error: { code, message, ... } }`. */
export interface ErrorReply {
  error: {
    code: string;
    message: string;
    fields?: FieldError[];
    conflicts?: Conflict[];
    /** With a conflict: the settings as they are now. */
    current?: SettingsForm;
  };
}

export interface Paged<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export interface Overview {
  hosts: number;
  hostsAlive: number;
  endpoints: number;
  endpointsUp: number;
  networks: number;
  sessionsEstablished: number;
  sessionsDown: number;
  asNumber: string;
  mesh: boolean;
  reflectors: number;
  invalid: { key: string; problem: string }[];
  revision: number;
}

export interface HostSummary {
  name: string;
  alive: boolean;
  /** The agent's last report (RFC 3339), if it is alive. */
  lastReport?: string;
  uptimeSeconds?: number;
  addresses: string[];
  asNumber: string;
  reflector: boolean;
  sessionsEstablished: number;
  sessionsTotal: number;
  endpoints: number;
  endpointsUp: number;
}

export interface Session {
  family: 4 | 6;
  peerIP: string;
  /** The node or BGPPeer at the other end, if known. */
  peerName?: string;
  type: string;
  state: string;
  since?: string;
  info?: string;
}

export interface EndpointSummary {
  id: string;
  name: string;
  host: string;
  workload: string;
  portId: string;
  portName: string;
  networkName: string;
  ips: string[];
  floatingIps: string[];
  status: string;
}

export interface HostDetail {
  host: HostSummary;
  birdReady: { v4?: string; v6?: string };
  configError?: string;
  statusUpdated?: string;
  sessions: Session[];
  endpoints: Paged<EndpointSummary>;
}

export interface SubnetUsage {
  id: string;
  name: string;
  cidr: string;
  ipVersion: 4 | 6;
  gateway: string | null;
  used: number;
  /** Addresses in the allocation pools (a string: IPv6 pools exceed a double). */
  size: string;
  percent: number;
}

export interface NetworkSummary {
  id: string;
  name: string;
  project: string;
  shared: boolean;
  external: boolean;
  ports: number;
  subnets: SubnetUsage[];
}

export interface RuleText {
  action: string;
  text: string;
}

export interface PolicyView {
  kind: string;
  name: string;
  namespace?: string;
  order?: number;
  /** The security group this policy enforces, if it is one. */
  securityGroup?: string;
  rules: RuleText[];
}

export interface TierView {
  name: string;
  ingress: PolicyView[];
  egress: PolicyView[];
}

export interface VmEndpoint extends EndpointSummary {
  iface: string;
  mac: string;
  securityGroups: { id: string; name: string }[];
  profiles: string[];
  tiers: TierView[];
}

export interface VmDetail {
  workload: string;
  hosts: string[];
  endpoints: VmEndpoint[];
}

export interface TopologyNode {
  id: string;
  label: string;
  role: 'host' | 'reflector' | 'external';
  alive: boolean;
  x: number;
  y: number;
}

export interface TopologyEdge {
  from: string;
  to: string;
  /** Established, or the worst state either end reports. */
  state: string;
  established: boolean;
}

export interface Topology {
  width: number;
  height: number;
  nodes: TopologyNode[];
  edges: TopologyEdge[];
  /** Established sessions left out of the picture (above the drawing limit). */
  omittedEstablished: number;
}

/** A server-sent event: which topics changed, at which datastore revision. */
export interface ChangeEvent {
  topics: string[];
  revision: number;
}
