/**
 * Where Brindle keeps Neutron's own objects (beside Calico's tree, under its own prefix), so
 * API servers are stateless and any number of them can serve one cloud. Allocations are
 * create-only keys: two servers can never hand out the same IP or MAC.
 */
export const NEUTRON_ROOT = '/brindle/neutron/v1/';

export type NeutronCollection = 'networks' | 'subnets' | 'ports' | 'security-groups' | 'security-group-rules' | 'routers' | 'floatingips';

/**
 * Written (empty) by every transaction that changes Neutron's objects, so its mod revision is
 * the revision of the last change to them: a server's cache that has reached it is up to date.
 */
export const NEUTRON_CHANGE_KEY = `${NEUTRON_ROOT}last-change`;

export function collectionPrefix(c: NeutronCollection): string {
  return `${NEUTRON_ROOT}${c}/`;
}
export function objectKey(c: NeutronCollection, id: string): string {
  return `${collectionPrefix(c)}${id}`;
}
/** An allocated fixed IP; the value is the port id. */
/** Where every subnet's address keys live (`IPAM_ROOT<subnet>/<ip>`). */
export const IPAM_ROOT = `${NEUTRON_ROOT}ipam/`;
export function ipKey(subnetId: string, ip: string): string {
  return `${IPAM_ROOT}${subnetId}/${ip}`;
}
export function ipPrefix(subnetId: string): string {
  return `${IPAM_ROOT}${subnetId}/`;
}
/** A MAC in use on a network; the value is the port id. */
export function macKey(networkId: string, mac: string): string {
  return `${NEUTRON_ROOT}macs/${networkId}/${mac.toLowerCase()}`;
}
/** A project's default security group; the value is its id. */
export function defaultSgKey(projectId: string): string {
  return `${NEUTRON_ROOT}default-security-groups/${projectId}`;
}
/** The one flat network on a physical network; the value is the network id. */
export function physnetKey(physnet: string): string {
  return `${NEUTRON_ROOT}physnets/${physnet}`;
}
/**
 * Set while a network or subnet is being deleted. Port creation requires it absent in the same
 * transaction that takes its addresses, so no port can slip in between the delete's "no ports
 * left" check and the delete itself.
 */
export function deletingKey(kind: 'networks' | 'subnets' | 'security-groups', id: string): string {
  return `${NEUTRON_ROOT}deleting/${kind}/${id}`;
}
/** Per-project quota overrides. */
export function quotaKey(projectId: string): string {
  return `${NEUTRON_ROOT}quotas/${projectId}`;
}
export const QUOTA_PREFIX = `${NEUTRON_ROOT}quotas/`;
/**
 * How many of a resource a project has, kept only while its quota for that resource is limited,
 * and changed in the same transaction as each create and delete (`service/quota-guard.ts`).
 */
export function quotaUsageKey(projectId: string, resource: string): string {
  return `${NEUTRON_ROOT}quota-usage/${projectId}/${resource}`;
}
/** A lock that serialises subnet creation cloud-wide (the overlap check reads every subnet). */
export const SUBNET_CIDR_LOCK = `${NEUTRON_ROOT}locks/subnet-cidrs`;
/**
 * A floating IP's association with a port's fixed IP; the value is the floating IP's id. Create
 * only: one fixed IP has at most one floating IP per external network (Neutron's unique
 * constraint), and the endpoint sync finds a port's floating IPs by listing its prefix.
 */
export function fipPortKey(portId: string, floatingNetworkId: string, fixedIp: string): string {
  return `${fipPortPrefix(portId)}${floatingNetworkId}/${fixedIp}`;
}
export function fipPortPrefix(portId: string): string {
  return `${NEUTRON_ROOT}fip-ports/${portId}/`;
}
