import { parseIp, type BGPConfiguration, type CalicoNode } from '../model/index.js';
import type { BirdNode } from './bird-node.js';
import { BgpNodeNotReadyError } from './errors.js';
import { parseGoDuration } from './parse-go-duration.js';

export type LogSeverity = 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal';

export interface BirdSettings {
  readonly me: BirdNode;
  /** Every other node, sorted by name. */
  readonly others: readonly BirdNode[];
  readonly logSeverity: LogSeverity;
  readonly meshEnabled: boolean;
  /** `nodeMeshMaxRestartTime` in whole seconds, when set and valid. */
  readonly meshRestartTime?: number;
  /** This node's reflector cluster id when BIRD can take it (IPv4 form or a 32-bit number). */
  readonly rrClusterId?: string;
}

export interface SettingsInput {
  readonly nodeName: string;
  readonly nodes: readonly CalicoNode[];
  readonly bgpConfigurations: readonly BGPConfiguration[];
}

export const DEFAULT_AS = 64512;
export const BGP_PORT = 179;
/** BGP's graceful-restart capability carries the restart time in 12 bits. */
export const MAX_RESTART_TIME = 4095;

/** A plain or dotted (`high.low`) AS number as the plain number BIRD takes. */
export function asPlain(as: number | string): number {
  if (typeof as === 'number') return as;
  const [high = '0', low] = as.split('.');
  return low === undefined ? Number(high) : Number(high) * 65536 + Number(low);
}

/** A Go duration as whole seconds usable as a graceful-restart time, or a problem. */
export function restartSeconds(text: string): number | string {
  const seconds = parseGoDuration(text);
  if (seconds === undefined) return `${JSON.stringify(text)} is not a duration`;
  const whole = Math.round(seconds);
  if (whole < 1 || whole > MAX_RESTART_TIME) return `${JSON.stringify(text)} is not between 1s and ${MAX_RESTART_TIME}s`;
  return whole;
}

function address(node: CalicoNode, family: 4 | 6, warnings: string[]): string | undefined {
  const text = family === 4 ? node.spec.bgp?.ipv4Address : node.spec.bgp?.ipv6Address;
  if (text === undefined) return undefined;
  const ip = parseIp(text.split('/')[0] ?? '');
  if (ip?.family === family) return ip.address;
  warnings.push(`Node ${node.metadata.name}: ipv${family}Address ${JSON.stringify(text)} is not an IPv${family} address; ignored`);
  return undefined;
}

/**
 * Resolves the settings rendering needs: this node and every other one (addresses, AS, port,
 * reflector cluster), log severity and mesh. A `node.<name>` BGPConfiguration wins over
 * `default` for that node; the mesh settings come from `default` only.
 */
export function resolveBirdSettings(input: SettingsInput, warnings: string[]): BirdSettings {
  const configs = new Map(input.bgpConfigurations.map((c) => [c.metadata.name, c.spec]));
  const global = configs.get('default');
  const toBirdNode = (node: CalicoNode): BirdNode => {
    const own = configs.get(`node.${node.metadata.name}`);
    const ipv4 = address(node, 4, warnings);
    const ipv6 = address(node, 6, warnings);
    const clusterId = node.spec.bgp?.routeReflectorClusterID;
    return {
      name: node.metadata.name,
      labels: node.metadata.labels ?? {},
      ...(ipv4 === undefined ? {} : { ipv4 }),
      ...(ipv6 === undefined ? {} : { ipv6 }),
      asNumber: asPlain(node.spec.bgp?.asNumber ?? own?.asNumber ?? global?.asNumber ?? DEFAULT_AS),
      port: own?.listenPort ?? global?.listenPort ?? BGP_PORT,
      ...(clusterId === undefined || clusterId === '' ? {} : { clusterId }),
    };
  };
  const mine = input.nodes.find((n) => n.metadata.name === input.nodeName);
  if (mine === undefined) throw new BgpNodeNotReadyError(input.nodeName, 'no Node resource');
  const me = toBirdNode(mine);
  if (me.ipv4 === undefined && me.ipv6 === undefined) throw new BgpNodeNotReadyError(input.nodeName, 'the Node has no IPv4 or IPv6 address');
  const others = input.nodes
    .filter((n) => n.metadata.name !== input.nodeName)
    .map(toBirdNode)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let meshRestartTime: number | undefined;
  if (global?.nodeMeshMaxRestartTime !== undefined) {
    const r = restartSeconds(global.nodeMeshMaxRestartTime);
    if (typeof r === 'number') meshRestartTime = r;
    else warnings.push(`BGPConfiguration default: nodeMeshMaxRestartTime ${r}; left out`);
  }
  let rrClusterId: string | undefined;
  if (me.clusterId !== undefined) {
    const id = me.clusterId;
    if (isClusterId(id)) rrClusterId = id;
    else
      warnings.push(
        `Node ${me.name}: routeReflectorClusterID ${JSON.stringify(me.clusterId)} is neither an IPv4 address nor a number; BIRD uses the router id as cluster id`,
      );
  }
  return {
    me,
    others,
    logSeverity: configs.get(`node.${input.nodeName}`)?.logSeverityScreen ?? global?.logSeverityScreen ?? 'Info',
    meshEnabled: global?.nodeToNodeMeshEnabled ?? true,
    ...(meshRestartTime === undefined ? {} : { meshRestartTime }),
    ...(rrClusterId === undefined ? {} : { rrClusterId }),
  };
}

/** A route-reflector cluster id BIRD takes: an IPv4 address or a 32-bit number. */
export function isClusterId(id: string): boolean {
  return parseIp(id)?.family === 4 || (/^\d{1,10}$/.test(id) && Number(id) <= 0xffffffff);
}
