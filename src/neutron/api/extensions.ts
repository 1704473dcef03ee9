/** The Neutron API extensions Brindle implements (and only those: clients probe this list). */
export interface Extension {
  readonly name: string;
  readonly alias: string;
  readonly description: string;
  readonly updated: string;
  readonly links: readonly never[];
}

function ext(alias: string, name: string, description: string): Extension {
  return { name, alias, description, updated: '2013-02-03T10:00:00-00:00', links: [] };
}

export const EXTENSIONS: readonly Extension[] = [
  ext('agent', 'agent', 'The agent management extension.'),
  ext('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs'),
  ext('binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'),
  ext('empty-string-filtering', 'Empty String Filtering Extension', 'Allow filtering by attributes with empty string value'),
  ext('external-net', 'Neutron external network', 'Adds external network attribute to network resource.'),
  ext('filter-validation', 'Filter parameters validation', 'Provides validation on filter parameters.'),
  ext('ip-substring-filtering', 'IP address substring filtering', 'Provides IP address substring filtering when listing ports'),
  ext('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'),
  ext('net-mtu-writable', 'Network MTU (writable)', 'Provides a writable MTU attribute for a network resource.'),
  ext('pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.'),
  ext('port-security', 'Port Security', 'Provides port security'),
  ext('project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.'),
  ext('provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks'),
  ext('quotas', 'Quota management support', 'Expose functions for quotas management per project'),
  ext(
    'router',
    'Neutron L3 Router',
    'Router abstraction for layer 3 forwarding between layer 2 Neutron networks and access to external networks via a NAT gateway.',
  ),
  ext('revision-if-match', 'If-Match constraints based on revision_number', 'Extension indicating that If-Match based on revision_number is supported.'),
  ext('security-group', 'security-group', 'The security groups extension.'),
  ext('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.'),
  ext('standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes'),
  ext('standard-attr-revisions', 'Resource revision numbers', 'This extension will display the revision number of neutron resources.'),
  ext(
    'standard-attr-tag',
    'Tag support for resources with standard attribute: subnet, network, port, security_group',
    'Enables to set tag on resources with standard attribute.',
  ),
  ext(
    'standard-attr-timestamp',
    'Resource timestamps',
    'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  ),
];
