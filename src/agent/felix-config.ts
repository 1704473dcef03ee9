import { parseCidrOrIp, parseIp, type FelixConfiguration } from '../model/index.js';
import { DEFAULT_DATAPLANE_CONFIG, type DataplaneConfig } from './config.js';
import { AgentConfigError } from './errors.js';

/** Parses Felix's duration strings (`90s`, `1m30s`, `500ms`, or a bare number of seconds) into ms. */
export function parseDurationMs(text: string, what: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (const m of text.matchAll(re)) {
    const n = Number(m[1]);
    const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    total += n * (unitMs[m[2] ?? 's'] ?? 1000);
    matched += m[0].length;
  }
  if (matched !== text.length || text === '') throw new AgentConfigError(`${what} ${JSON.stringify(text)} is not a duration`, 'use e.g. 90s, 1m30s or 500ms');
  return total;
}

/** Intervals the agent's main loop uses (FelixConfiguration names in comments). */
export interface AgentIntervals {
  /** IptablesRefreshInterval (also used for IP sets and routes). */
  readonly refreshMs: number;
  /** ReportingInterval. */
  readonly reportMs: number;
  /** ReportingTTL, in seconds. */
  readonly reportTtlSeconds: number;
}

/**
 * The dataplane settings from the merged FelixConfiguration (`default`, then `node.<host>`);
 * fields Brindle does not use are ignored, values it cannot use are errors.
 */
export function dataplaneConfigFrom(spec: FelixConfiguration['spec']): DataplaneConfig {
  const d = DEFAULT_DATAPLANE_CONFIG;
  const prefixes = spec.interfacePrefix
    ?.split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (prefixes !== undefined && prefixes.some((p) => !/^[A-Za-z0-9_.-]{1,14}$/.test(p))) {
    throw new AgentConfigError(`interfacePrefix ${JSON.stringify(spec.interfacePrefix)} is not a list of interface name prefixes`);
  }
  const metadataAddr = spec.metadataAddr ?? d.metadata?.addr ?? '127.0.0.1';
  for (const p of [...(spec.failsafeInboundHostPorts ?? []), ...(spec.failsafeOutboundHostPorts ?? [])]) {
    if (p.net !== undefined && parseCidrOrIp(p.net) === undefined)
      throw new AgentConfigError(`failsafe port ${p.protocol}:${p.port} has an invalid net ${JSON.stringify(p.net)}`);
  }
  if (metadataAddr.toLowerCase() !== 'none' && parseIp(metadataAddr) === undefined)
    throw new AgentConfigError(`metadataAddr ${JSON.stringify(metadataAddr)} is not an IP address or None`);
  return {
    ...d,
    ...(prefixes === undefined || prefixes.length === 0 ? {} : { interfacePrefixes: prefixes }),
    ...(spec.defaultEndpointToHostAction === undefined
      ? {}
      : { endpointToHostAction: spec.defaultEndpointToHostAction.toUpperCase() as DataplaneConfig['endpointToHostAction'] }),
    ...(spec.iptablesFilterAllowAction === undefined
      ? {}
      : { filterAllowAction: spec.iptablesFilterAllowAction.toUpperCase() as DataplaneConfig['filterAllowAction'] }),
    metadata: metadataAddr.toLowerCase() === 'none' ? undefined : { addr: metadataAddr, port: spec.metadataPort ?? d.metadata?.port ?? 8775 },
    ...(spec.failsafeInboundHostPorts === undefined
      ? {}
      : {
          failsafeInbound: spec.failsafeInboundHostPorts.map((p) => ({ protocol: p.protocol, port: p.port, ...(p.net === undefined ? {} : { net: p.net }) })),
        }),
    ...(spec.failsafeOutboundHostPorts === undefined
      ? {}
      : {
          failsafeOutbound: spec.failsafeOutboundHostPorts.map((p) => ({ protocol: p.protocol, port: p.port, ...(p.net === undefined ? {} : { net: p.net }) })),
        }),
    ...(spec.chainInsertMode === undefined ? {} : { chainInsertMode: spec.chainInsertMode === 'Append' ? 'append' : 'insert' }),
    ...(spec.ipv6Support === undefined ? {} : { ipv6: spec.ipv6Support }),
    ...(spec['workloadSourceSpoofing'] === 'Any' ? { workloadSourceSpoofing: 'Any' as const } : {}),
  };
}

/** The loop's intervals from FelixConfiguration, with Felix's defaults. */
export function intervalsFrom(spec: FelixConfiguration['spec']): AgentIntervals {
  return {
    refreshMs: spec.iptablesRefreshInterval === undefined ? 90_000 : parseDurationMs(spec.iptablesRefreshInterval, 'iptablesRefreshInterval'),
    reportMs: spec.reportingInterval === undefined ? 30_000 : parseDurationMs(spec.reportingInterval, 'reportingInterval'),
    reportTtlSeconds: spec.reportingTTL === undefined ? 90 : Math.ceil(parseDurationMs(spec.reportingTTL, 'reportingTTL') / 1000),
  };
}
