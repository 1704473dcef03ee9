// The Fuel plugin's side of the settings: the environment_config.yaml attributes (what the Fuel
// UI shows, with Nailgun's regex validation and restrictions) and the conversion of a node's
// Fuel YAML (astute.yaml: the cluster's nodes and the plugin's values) into Brindle's inventory
// and settings. One table holds both, so the UI and `brindle deploy` validate alike.
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { deploySettingsSchema, type DeploySettings } from '../deploy-settings.js';
import { DeployInputError } from '../errors.js';
import { inventorySchema, type Inventory, type Role } from '../inventory.js';

export const PLUGIN_NAME = 'brindle-fuel-plugin';

/** AS numbers 1–4294967294 (Fuel 9.0's plugin allowed 1–65534; 4-byte ASes are common now). */
export const AS_REGEX =
  '^([1-9][0-9]{0,8}|[1-3][0-9]{9}|4[0-1][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[0-1][0-9]{2}|42949672[0-8][0-9]|429496729[0-4])$';
const IPV4 = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}';
const AS_PART = AS_REGEX.slice(1, -1);
const PEER_LINE = `[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?:${AS_PART}:${IPV4}`;

/** One attribute of environment_config.yaml, in Fuel's UI types. */
export interface FuelAttribute {
  readonly type: 'text' | 'textarea' | 'checkbox' | 'radio';
  readonly label: string;
  readonly description: string;
  readonly weight: number;
  readonly value: string | boolean;
  readonly values?: readonly { readonly data: string; readonly label: string; readonly description?: string }[];
  readonly regex?: { readonly source: string; readonly error: string };
  readonly restrictions?: readonly { readonly condition: string; readonly message: string; readonly action?: string }[];
}

const setting = (attr: string): string => `settings:${PLUGIN_NAME}.${attr}.value`;

export const FUEL_ATTRIBUTES: Readonly<Record<string, FuelAttribute>> = {
  as_number: {
    type: 'text',
    label: 'AS number',
    description: "The cloud's BGP AS number, every host's (1-4294967294)",
    weight: 10,
    value: '64512',
    regex: { source: AS_REGEX, error: 'Invalid AS number: a whole number from 1 to 4294967294' },
  },
  bgp_topology: {
    type: 'radio',
    label: 'BGP topology',
    description: 'How hosts learn each other’s VM routes',
    weight: 20,
    value: 'mesh',
    values: [
      { data: 'mesh', label: 'Full mesh', description: 'Every host peers with every other (small clouds)' },
      { data: 'route-reflectors', label: 'Route reflectors on the controllers', description: 'Hosts peer only with the controllers' },
    ],
  },
  rr_cluster_id: {
    type: 'text',
    label: 'Route reflector cluster id',
    description: 'Shared by all reflectors (IPv4 form)',
    weight: 30,
    value: '224.0.0.1',
    regex: { source: `^${IPV4}$`, error: 'Invalid cluster id: an IPv4 address such as 224.0.0.1' },
    restrictions: [{ condition: `${setting('bgp_topology')} != 'route-reflectors'`, message: 'Only with route reflectors', action: 'hide' }],
  },
  enable_external_peering: {
    type: 'checkbox',
    label: 'Allow external BGP peering',
    description: 'Border routers learn the VM routes',
    weight: 40,
    value: false,
  },
  external_peers: {
    type: 'textarea',
    label: 'External BGP peers',
    description: 'One per line: name:AS:IPv4 address',
    weight: 50,
    value: '',
    regex: { source: `^(${PEER_LINE}(\\n${PEER_LINE})*\\n?)?$`, error: 'Invalid peers: one name:AS:IPv4 address per line' },
    restrictions: [{ condition: `${setting('enable_external_peering')} == false`, message: 'Tick external BGP peering first' }],
  },
  ip_pool: {
    type: 'text',
    label: 'VM address pool',
    description: 'The IPv4 CIDR VM addresses come from (empty: none)',
    weight: 60,
    value: '',
    regex: { source: `^(${IPV4}/([0-9]|[12][0-9]|3[0-2]))?$`, error: 'Invalid pool: an IPv4 CIDR such as 10.65.0.0/16' },
  },
  nat_outgoing: { type: 'checkbox', label: 'NAT outgoing', description: 'VM traffic leaving the pool is masqueraded by its host', weight: 70, value: false },
  enable_ipv6: { type: 'checkbox', label: 'Enable IPv6', description: 'IPv6 policy and routes', weight: 80, value: false },
};

/** The plugin's values as they reach a node (strings and booleans), checked against the same regexes. */
function pluginValues(raw: unknown, file: string): Record<string, string | boolean> {
  const section = z.record(z.string(), z.unknown()).safeParse(raw);
  if (!section.success) throw new DeployInputError(file, `has no ${PLUGIN_NAME} section`, PLUGIN_NAME);
  const out: Record<string, string | boolean> = {};
  for (const [name, attr] of Object.entries(FUEL_ATTRIBUTES)) {
    const given = section.data[name];
    // Nailgun puts either the bare value or the attribute object ({value: ...}) into astute.yaml.
    const v = typeof given === 'object' && given !== null && 'value' in given ? given.value : given;
    const value = v === undefined || v === null ? attr.value : v;
    if (typeof value !== typeof attr.value) throw new DeployInputError(file, `must be a ${typeof attr.value}`, `${PLUGIN_NAME}.${name}`);
    if (attr.regex !== undefined && typeof value === 'string' && !new RegExp(attr.regex.source).test(value)) {
      throw new DeployInputError(file, attr.regex.error, `${PLUGIN_NAME}.${name}`);
    }
    out[name] = value as string | boolean;
  }
  return out;
}

const astuteSchema = z.looseObject({
  nodes: z
    .array(
      z.looseObject({
        name: z.string(),
        fqdn: z.string().optional(),
        role: z.string(),
        internal_address: z.string(),
      }),
    )
    .min(1),
});

const FUEL_ROLES: Readonly<Record<string, Role>> = { 'primary-controller': 'controller', controller: 'controller', compute: 'compute' };

/**
 * A node's Fuel YAML -> Brindle's inventory and settings. Every node with a Brindle role
 * (controllers, computes; other Fuel roles are left alone, as the 6.1 plugin did) is a machine
 * at its management address; with route reflectors, the controllers reflect. The packages come
 * from the plugin's repository, which Fuel adds to every node's apt sources.
 */
export function fromFuel(text: string, file: string): { inventory: Inventory; settings: DeploySettings } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new DeployInputError(file, `not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const astute = astuteSchema.safeParse(doc);
  if (!astute.success) {
    const issue = astute.error.issues[0];
    throw new DeployInputError(file, issue?.message ?? 'invalid', issue?.path.join('.'));
  }
  const v = pluginValues((doc as Record<string, unknown>)[PLUGIN_NAME], file);
  const reflect = v['bgp_topology'] === 'route-reflectors';
  const machines = new Map<string, { name: string; address: string; roles: Role[] }>();
  // Fuel lists a node once per role, primary-controller first.
  const ordered = [...astute.data.nodes].sort((a, b) => Number(b.role === 'primary-controller') - Number(a.role === 'primary-controller'));
  for (const n of ordered) {
    const role = FUEL_ROLES[n.role];
    if (role === undefined) continue;
    const m = machines.get(n.name) ?? { name: n.name, address: n.internal_address, roles: [] };
    const roles: Role[] = role === 'controller' && reflect ? ['controller', 'route-reflector'] : [role];
    for (const r of roles) if (!m.roles.includes(r)) m.roles.push(r);
    machines.set(n.name, m);
  }
  const inventory = inventorySchema.safeParse({ machines: [...machines.values()] });
  if (!inventory.success)
    throw new DeployInputError(file, inventory.error.issues[0]?.message ?? 'invalid', `nodes.${inventory.error.issues[0]?.path.join('.') ?? ''}`);
  const peers =
    v['enable_external_peering'] === true
      ? String(v['external_peers'])
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => {
            const [name, as, address] = l.trim().split(':');
            return { name, asNumber: Number(as), address };
          })
      : [];
  const pool = String(v['ip_pool']);
  const settings = deploySettingsSchema.safeParse({
    asNumber: Number(v['as_number']),
    bgp: { topology: reflect ? 'route-reflectors' : 'mesh', clusterId: v['rr_cluster_id'] },
    externalPeers: peers,
    ipPools: pool === '' ? [] : [{ cidr: pool, natOutgoing: v['nat_outgoing'] === true }],
    ipv6: v['enable_ipv6'] === true,
    packages: { apt: true },
  });
  if (!settings.success) {
    const issue = settings.error.issues[0];
    throw new DeployInputError(file, issue?.message ?? 'invalid', `${PLUGIN_NAME}.${issue?.path.join('.') ?? ''}`);
  }
  return { inventory: inventory.data, settings: settings.data };
}
