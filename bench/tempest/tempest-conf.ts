// The tempest.conf and accounts.yaml `make tempest` runs with (reference neutron-api.md §6.3),
// rendered from what Brindle serves: a pure function of its inputs.
import { stringify } from 'yaml';

/** A pre-provisioned tempest account: a Keystone user with one role in its own project. */
export interface TempestAccount {
  readonly username: string;
  readonly password: string;
  readonly project: string;
  readonly admin: boolean;
}

export interface TempestConfInput {
  /** Keystone's identity v3 root. */
  readonly identityUrl: string;
  readonly adminPassword: string;
  /** The workspace directory (logs, locks, accounts file). */
  readonly workspace: string;
  /** The extension aliases Brindle lists at GET /v2.0/extensions. */
  readonly extensions: readonly string[];
  /** The id of an external network tempest may use as the public one, if any. */
  readonly publicNetworkId?: string;
  /** Floating IP tests: they need `publicNetworkId`. */
  readonly floatingIps: boolean;
}

/** The tempest.conf: Keystone v3 with pre-provisioned accounts, the network service only. */
export function tempestConf(c: TempestConfInput): string {
  const sections: Record<string, Record<string, string | number | boolean>> = {
    DEFAULT: { log_file: 'tempest.log', log_dir: `${c.workspace}/logs` },
    auth: {
      use_dynamic_credentials: false,
      test_accounts_file: `${c.workspace}/etc/accounts.yaml`,
      create_isolated_networks: false,
      admin_username: 'admin',
      admin_password: c.adminPassword,
      admin_project_name: 'admin',
      admin_domain_name: 'Default',
      default_credentials_domain_name: 'Default',
    },
    identity: { auth_version: 'v3', uri_v3: c.identityUrl, region: 'RegionOne', v3_endpoint_type: 'public' },
    'identity-feature-enabled': { api_v2: false },
    network: {
      endpoint_type: 'publicURL',
      // Inside the ranges tests may use (198.18.0.0/15, 2001:db8::/32); tempest slices /28s and /64s.
      project_network_cidr: '198.18.0.0/16',
      project_network_mask_bits: 28,
      project_network_v6_cidr: '2001:db8::/48',
      project_network_v6_mask_bits: 64,
      project_networks_reachable: false,
      shared_physical_network: false,
      ...(c.publicNetworkId === undefined ? {} : { public_network_id: c.publicNetworkId }),
    },
    'network-feature-enabled': {
      ipv6: true,
      ipv6_subnet_attributes: true,
      floating_ips: c.floatingIps,
      port_security: true,
      api_extensions: c.extensions.join(','),
    },
    service_available: { neutron: true, nova: false, glance: false, cinder: false, swift: false, horizon: false, placement: false },
    validation: { run_validation: false },
    oslo_concurrency: { lock_path: `${c.workspace}/tempest_lock` },
  };
  return Object.entries(sections)
    .map(([name, kv]) =>
      [`[${name}]`, ...Object.entries(kv).map(([k, v]) => `${k} = ${typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)}`)].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

/** accounts.yaml for tempest's pre-provisioned credential provider. */
export function accountsYaml(accounts: readonly TempestAccount[]): string {
  return stringify(
    accounts.map((a) => ({
      username: a.username,
      project_name: a.project,
      password: a.password,
      domain_name: 'Default',
      ...(a.admin ? { types: ['admin'] } : {}),
    })),
  );
}
