/** Test helper: an admin-up `LocalEndpoint` on `iface` with no policy, overridden by `fields`. */
import type { LocalEndpoint } from '../../calc/model.js';

export function localEndpoint(iface: string, fields: Partial<LocalEndpoint> = {}): LocalEndpoint {
  return {
    id: `openstack/${iface}`,
    iface,
    adminUp: true,
    ipv4Nets: [],
    ipv6Nets: [],
    ipv4Nat: [],
    allowSpoofedSourcePrefixes: [],
    tiers: [],
    profileIds: [],
    statusIds: { orchestrator: 'openstack', workload: iface, endpoint: iface },
    ...fields,
  };
}
