import { InvalidNameError } from './errors.js';

/**
 * Calico's naming of OpenStack objects (networking-calico `endpoints.endpoint_name`): the
 * WorkloadEndpoint name joins node, orchestrator, workload and endpoint with `-`, after doubling
 * every `-` inside each part.
 */
export interface WorkloadEndpointIdentity {
  readonly node: string;
  readonly orchestrator: string;
  readonly workload: string;
  readonly endpoint: string;
}

function escapePart(part: string): string {
  return part.replaceAll('-', '--');
}

export function workloadEndpointName(id: WorkloadEndpointIdentity): string {
  return [id.node, id.orchestrator, id.workload, id.endpoint].map(escapePart).join('-');
}

/** The inverse of workloadEndpointName; undefined if the name does not have four parts. */
export function parseWorkloadEndpointName(name: string): WorkloadEndpointIdentity | undefined {
  const parts = name.replaceAll('--', '\u0000').split('-');
  if (parts.length !== 4) return undefined;
  const [node, orchestrator, workload, endpoint] = parts.map((p) => p.replaceAll('\u0000', '-')) as [string, string, string, string];
  if ([node, orchestrator, workload, endpoint].some((p) => p === '')) return undefined;
  return { node, orchestrator, workload, endpoint };
}

/** The host-side device Nova creates for a port: `tap` + the first 11 characters of its id. */
export function tapInterfaceName(portId: string): string {
  return `tap${portId.slice(0, 11)}`;
}

/**
 * Makes a string usable as a label name or value (networking-calico
 * `sanitize_label_name_value`): truncate, replace characters outside `[-_.A-Za-z0-9]` with `_`,
 * then strip leading and trailing non-alphanumerics.
 */
export function sanitizeLabel(value: string, maxLength = 63): string {
  return value
    .slice(0, maxLength)
    .replace(/[^-_.A-Za-z0-9]/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
}

const REGION_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_REGION = 63 - 'openstack-region-'.length;

/** Checks an OpenStack region name the way networking-calico asserts it at start-up. */
export function validateRegion(region: string): string {
  if (!REGION_RE.test(region)) throw new InvalidNameError('OpenStack region', region, 'must be a DNS label');
  if (region.length > MAX_REGION) {
    throw new InvalidNameError('OpenStack region', region, `must be at most ${MAX_REGION} characters`);
  }
  return region;
}

/** `no-region` or `region-<r>`: the segment in Brindle's private key paths. */
export function regionString(region?: string): string {
  return region === undefined ? 'no-region' : `region-${validateRegion(region)}`;
}

/** `openstack` or `openstack-region-<r>`: the Calico namespace for OpenStack resources. */
export function openstackNamespace(region?: string): string {
  return region === undefined ? 'openstack' : `openstack-region-${validateRegion(region)}`;
}
