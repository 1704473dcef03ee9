import type { KvStore, ResourceClient } from '../../datastore/index.js';
import type { Clock, Logger } from '../../lib/index.js';
import type { NeutronStore } from '../store/neutron-store.js';

/** Everything the Neutron services need, injected (real or test doubles). */
export interface NeutronDeps {
  readonly kv: KvStore;
  readonly store: NeutronStore;
  readonly resources: ResourceClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The Calico namespace for OpenStack resources (`openstack` or `openstack-region-<r>`). */
  readonly namespace: string;
  /** `no-region` or `region-<r>`, for networking-calico's private keys. */
  readonly regionString: string;
  readonly newId: () => string;
  readonly random: () => number;
}

/** Who is asking (from the auth layer). */
export interface RequestContext {
  readonly projectId: string;
  readonly isAdmin: boolean;
  /** From a Keystone token (none under noauth). */
  readonly userId?: string;
  readonly roles?: readonly string[];
  /** The roles are a Keystone token's (implied ones already listed), not noauth's `X-Roles`. */
  readonly rolesFromToken?: boolean;
}

/** The attributes every new Neutron object starts with: its id, project (as both names), description, no tags, timestamps, revision. */
export function objectBase(o: { id: string; project: string; description: string | undefined; now: string; revision: number }) {
  return {
    id: o.id,
    tenant_id: o.project,
    project_id: o.project,
    description: o.description ?? '',
    tags: [] as string[],
    created_at: o.now,
    updated_at: o.now,
    revision_number: o.revision,
  };
}

/** Neutron's timestamp format: second precision, UTC, `Z`. */
export function timestamp(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
