/** The agent's dataplane settings (Felix's names in comments), after defaults are applied. */
export interface DataplaneConfig {
  /** InterfacePrefix: workload interfaces start with one of these (OpenStack: `tap`). */
  readonly interfacePrefixes: readonly string[];
  /** Mark bits (IptablesMarkMask allocation, lowest free bit first). */
  readonly marks: { readonly accept: number; readonly pass: number; readonly drop: number; readonly scratch0: number; readonly scratch1: number };
  /** DefaultEndpointToHostAction. */
  readonly endpointToHostAction: 'DROP' | 'ACCEPT' | 'RETURN';
  /** IptablesFilterAllowAction. */
  readonly filterAllowAction: 'ACCEPT' | 'RETURN';
  /** MetadataAddr/MetadataPort; undefined = no metadata DNAT or accept. */
  readonly metadata: { readonly addr: string; readonly port: number } | undefined;
  /** FailsafeInboundHostPorts / FailsafeOutboundHostPorts. */
  readonly failsafeInbound: readonly FailsafePort[];
  readonly failsafeOutbound: readonly FailsafePort[];
  /** ChainInsertMode. */
  readonly chainInsertMode: 'insert' | 'append';
  /** LogPrefix for Log rules. */
  readonly logPrefix: string;
  /** Ipv6Support. */
  readonly ipv6: boolean;
  /** DisableConntrackInvalidCheck. */
  readonly disableConntrackInvalidCheck: boolean;
  /** WorkloadSourceSpoofing: endpoints' allowSpoofedSourcePrefixes count only when `Any`. */
  readonly workloadSourceSpoofing: 'Disabled' | 'Any';
}

export interface FailsafePort {
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  readonly net?: string;
}

/** Felix's defaults (FailsafeInboundHostPorts etc. as in config_params.go). */
export const DEFAULT_FAILSAFE_INBOUND: readonly FailsafePort[] = [
  { protocol: 'tcp', port: 22 },
  { protocol: 'udp', port: 68 },
  { protocol: 'tcp', port: 179 },
  { protocol: 'tcp', port: 2379 },
  { protocol: 'tcp', port: 2380 },
  { protocol: 'tcp', port: 5473 },
  { protocol: 'tcp', port: 6443 },
  { protocol: 'tcp', port: 6666 },
  { protocol: 'tcp', port: 6667 },
];
export const DEFAULT_FAILSAFE_OUTBOUND: readonly FailsafePort[] = [
  { protocol: 'udp', port: 53 },
  { protocol: 'udp', port: 67 },
  { protocol: 'tcp', port: 179 },
  { protocol: 'tcp', port: 2379 },
  { protocol: 'tcp', port: 2380 },
  { protocol: 'tcp', port: 5473 },
  { protocol: 'tcp', port: 6443 },
  { protocol: 'tcp', port: 6666 },
  { protocol: 'tcp', port: 6667 },
];

export const DEFAULT_DATAPLANE_CONFIG: DataplaneConfig = {
  interfacePrefixes: ['tap'],
  marks: { accept: 0x10000, pass: 0x20000, drop: 0x40000, scratch0: 0x80000, scratch1: 0x100000 },
  endpointToHostAction: 'DROP',
  filterAllowAction: 'ACCEPT',
  metadata: { addr: '127.0.0.1', port: 8775 },
  failsafeInbound: DEFAULT_FAILSAFE_INBOUND,
  failsafeOutbound: DEFAULT_FAILSAFE_OUTBOUND,
  chainInsertMode: 'insert',
  logPrefix: 'calico-packet',
  ipv6: true,
  disableConntrackInvalidCheck: false,
  workloadSourceSpoofing: 'Disabled',
};
