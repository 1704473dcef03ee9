import { z } from 'zod';
import { nt } from './neutron-types.js';
import { attr, defineResource, readOnly, type CreateInput, type UpdateInput } from './resource.js';
import { named, owned } from './standard-attributes.js';

const SECURITY_GROUP_ATTRIBUTES = {
  ...named,
  stateful: attr(nt.boolean(), { default: true }),
  shared: readOnly(),
  security_group_rules: readOnly(),
};
export const SECURITY_GROUP = defineResource('security_group', 'security_groups', SECURITY_GROUP_ATTRIBUTES);
export type SecurityGroupInput = CreateInput<typeof SECURITY_GROUP>;
export type SecurityGroupChanges = UpdateInput<typeof SECURITY_GROUP>;

/** A protocol by name or number; numbers are kept as their decimal string, as Neutron stores them. */
const protocol = z
  .union([nt.int(0, 255), nt.string(40)], { error: (iss) => `${JSON.stringify(iss.input)} is not a valid protocol` })
  .transform((p) => String(p))
  .nullable();

const SECURITY_GROUP_RULE_ATTRIBUTES = {
  ...owned,
  security_group_id: attr(nt.uuid(), { required: true }),
  direction: attr(nt.oneOf(['ingress', 'egress']), { required: true }),
  ethertype: attr(nt.oneOf(['IPv4', 'IPv6']), { default: 'IPv4' }),
  protocol: attr(protocol),
  port_range_min: attr(nt.sgPort().nullable()),
  port_range_max: attr(nt.sgPort().nullable()),
  remote_ip_prefix: attr(nt.string(64).nullable()),
  // Not format-checked, as in Neutron: an id that names no group is a 404 (SecurityGroupNotFound).
  remote_group_id: attr(nt.string(255).nullable()),
  remote_address_group_id: attr(nt.uuid().nullable()),
  normalized_cidr: readOnly(),
};
export const SECURITY_GROUP_RULE = defineResource('security_group_rule', 'security_group_rules', SECURITY_GROUP_RULE_ATTRIBUTES);
export type RuleInput = CreateInput<typeof SECURITY_GROUP_RULE>;
