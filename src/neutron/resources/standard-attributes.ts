import { nt } from './neutron-types.js';
import { attr, readOnly } from './resource.js';

/** What every project-owned resource declares: owner, description, and the standard attributes the server keeps. */
export const owned = {
  id: readOnly(),
  tenant_id: attr(nt.projectId()),
  project_id: attr(nt.projectId()),
  description: attr(nt.string(255), { put: true, default: '' }),
  tags: readOnly(),
  created_at: readOnly(),
  updated_at: readOnly(),
  revision_number: readOnly(),
};

/** And a name. */
export const named = { ...owned, name: attr(nt.string(255), { put: true, default: '' }) };
