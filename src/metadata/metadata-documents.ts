import type { Instance } from './instance-lookup.js';

/** A host name from the instance name (as Nova sanitizes display names), else from its uuid. */
function hostnameOf(i: Instance): string {
  const fromName = i.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return fromName === '' ? `host-${i.uuid.slice(0, 8)}` : fromName;
}

/** `/openstack/<version>/meta_data.json`: the fields guests (cloud-init) read. */
export function openstackMetaData(i: Instance): Record<string, unknown> {
  return {
    uuid: i.uuid,
    name: i.name === '' ? hostnameOf(i) : i.name,
    hostname: hostnameOf(i),
    launch_index: 0,
    availability_zone: 'nova',
    project_id: i.projectId,
    public_keys: {},
    keys: [],
    meta: {},
    devices: [],
  };
}

/** The EC2-style `/<version>/meta-data/` items, by path. */
export function ec2MetaData(i: Instance): Record<string, string> {
  const v4 = i.fixedIps.find((ip) => !ip.includes(':')) ?? '';
  return {
    'ami-id': 'ami-00000000',
    'instance-id': i.uuid,
    'instance-type': 'brindle',
    hostname: hostnameOf(i),
    'local-hostname': hostnameOf(i),
    'local-ipv4': v4,
    mac: i.mac,
    'placement/availability-zone': 'nova',
    'public-hostname': hostnameOf(i),
    'reservation-id': `r-${i.portId.slice(0, 8)}`,
  };
}

/** The listing of an EC2 directory: its direct children (directories end in `/`). */
export function ec2Listing(items: Record<string, string>, dir: string): string[] | undefined {
  const prefix = dir === '' ? '' : `${dir}/`;
  const children = new Set<string>();
  for (const key of Object.keys(items)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf('/');
    children.add(slash < 0 ? rest : `${rest.slice(0, slash)}/`);
  }
  return children.size === 0 ? undefined : [...children].sort();
}
