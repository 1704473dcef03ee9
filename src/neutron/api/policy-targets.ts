import { faults } from '../errors.js';
import type { Target } from '../policy/index.js';
import type { NeutronServices } from '../service/neutron-services.js';

/** How policy rules see objects that belong to a parent: the parent's owner and flags beside the object's own attributes. */
export interface PolicyTargets {
  /** Subnets and ports: `network:tenant_id`/`network:project_id`, and the network's `shared` and `router:external` (Neutron's FieldCheck reads them from the network). */
  readonly withNetwork: (obj: Target) => Promise<Target>;
  /** Security group rules: `security_group:tenant_id`/`security_group:project_id`. */
  readonly withSecurityGroup: (obj: Target) => Promise<Target>;
}

export function policyTargets(s: NeutronServices): PolicyTargets {
  return {
    withNetwork: async (obj) => {
      const id = (obj as Record<string, unknown>)['network_id'];
      if (typeof id !== 'string') return obj;
      const n = (await s.deps.store.get('networks', id))?.record;
      if (n === undefined) throw faults.notFound('Network', id);
      return { ...obj, 'network:tenant_id': n.tenant_id, 'network:project_id': n.project_id, shared: n.shared, 'router:external': n['router:external'] };
    },
    withSecurityGroup: async (obj) => {
      const id = (obj as Record<string, unknown>)['security_group_id'];
      if (typeof id !== 'string') return obj;
      const g = (await s.deps.store.get('security-groups', id))?.record;
      if (g === undefined) throw faults.notFound('SecurityGroup', id);
      return { ...obj, 'security_group:tenant_id': g.tenant_id, 'security_group:project_id': g.project_id };
    },
  };
}
