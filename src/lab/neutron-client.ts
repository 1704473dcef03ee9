import { z } from 'zod';
import { LabApiError } from './errors.js';

// Only the fields the lab reads; everything else a response carries is kept (loose objects).
const fixedIpSchema = z.object({ subnet_id: z.string(), ip_address: z.string() });

const networkSchema = z.looseObject({ id: z.string(), name: z.string(), subnets: z.array(z.string()), mtu: z.number().optional() });

const subnetSchema = z.looseObject({
  id: z.string(),
  network_id: z.string(),
  cidr: z.string(),
  ip_version: z.union([z.literal(4), z.literal(6)]),
  gateway_ip: z.string().nullable(),
});

const ruleSchema = z.looseObject({
  id: z.string(),
  security_group_id: z.string(),
  direction: z.enum(['ingress', 'egress']),
  ethertype: z.enum(['IPv4', 'IPv6']),
  protocol: z.string().nullable(),
  port_range_min: z.number().nullable(),
  port_range_max: z.number().nullable(),
  remote_ip_prefix: z.string().nullable(),
  remote_group_id: z.string().nullable(),
});

const securityGroupSchema = z.looseObject({ id: z.string(), name: z.string(), security_group_rules: z.array(ruleSchema) });

const portSchema = z.looseObject({
  id: z.string(),
  network_id: z.string(),
  mac_address: z.string(),
  fixed_ips: z.array(fixedIpSchema),
  security_groups: z.array(z.string()),
  device_id: z.string(),
  device_owner: z.string(),
  status: z.string(),
  'binding:host_id': z.string().nullable().optional(),
  'binding:vif_type': z.string().optional(),
});

const routerSchema = z.looseObject({ id: z.string(), name: z.string(), external_gateway_info: z.looseObject({ network_id: z.string() }).nullable() });

const floatingIpSchema = z.looseObject({
  id: z.string(),
  floating_ip_address: z.string(),
  floating_network_id: z.string(),
  port_id: z.string().nullable(),
  fixed_ip_address: z.string().nullable(),
  status: z.string(),
});

const faultSchema = z.object({ NeutronError: z.object({ type: z.string(), message: z.string() }) });

export type Network = z.infer<typeof networkSchema>;
export type Subnet = z.infer<typeof subnetSchema>;
export type SecurityGroup = z.infer<typeof securityGroupSchema>;
export type SecurityGroupRule = z.infer<typeof ruleSchema>;
export type Port = z.infer<typeof portSchema>;
export type Router = z.infer<typeof routerSchema>;
export type FloatingIp = z.infer<typeof floatingIpSchema>;

export interface CreateNetworkBody {
  readonly name?: string;
  readonly shared?: boolean;
  readonly 'provider:network_type'?: 'local' | 'flat';
  readonly 'provider:physical_network'?: string;
  readonly mtu?: number;
  readonly 'router:external'?: boolean;
}

export interface CreateSubnetBody {
  readonly network_id: string;
  readonly cidr: string;
  readonly ip_version: 4 | 6;
  readonly name?: string;
  readonly gateway_ip?: string | null;
  readonly enable_dhcp?: boolean;
  readonly allocation_pools?: readonly { readonly start: string; readonly end: string }[];
  readonly ipv6_address_mode?: 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless';
  readonly ipv6_ra_mode?: 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless';
  readonly dns_nameservers?: readonly string[];
  readonly host_routes?: readonly { readonly destination: string; readonly nexthop: string }[];
}

export interface CreateSecurityGroupBody {
  readonly name: string;
  readonly description?: string;
}

export interface CreateSecurityGroupRuleBody {
  readonly security_group_id: string;
  readonly direction: 'ingress' | 'egress';
  readonly ethertype?: 'IPv4' | 'IPv6';
  readonly protocol?: string | number | null;
  readonly port_range_min?: number | null;
  readonly port_range_max?: number | null;
  readonly remote_ip_prefix?: string | null;
  readonly remote_group_id?: string | null;
  readonly description?: string;
}

export interface CreatePortBody {
  readonly network_id: string;
  readonly name?: string;
  readonly fixed_ips?: readonly { readonly subnet_id?: string; readonly ip_address?: string }[];
  readonly security_groups?: readonly string[];
  readonly mac_address?: string;
  readonly device_id?: string;
  readonly port_security_enabled?: boolean;
}

export interface UpdatePortBody {
  readonly name?: string;
  readonly 'binding:host_id'?: string | null;
  readonly device_id?: string;
  readonly device_owner?: string;
  readonly security_groups?: readonly string[];
  readonly fixed_ips?: readonly { readonly subnet_id?: string; readonly ip_address?: string }[];
  readonly admin_state_up?: boolean;
}

export interface NeutronClientOptions {
  /** The API root, e.g. `http://127.0.0.1:9696`. */
  readonly url: string;
  /** Sent as `X-Project-Id` (noauth); default `lab`. */
  readonly projectId?: string;
  /** Per-request limit; default 30 s. */
  readonly timeoutMs?: number;
  /** The HTTP seam; default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * A small client for Brindle's Neutron API, enough to drive it as Nova and an operator do in
 * the lab. Every failure is a LabApiError carrying the NeutronError type and the HTTP status
 * (status 0 and type `ConnectionFailed` when the server could not be reached).
 */
export class NeutronClient {
  readonly url: string;
  readonly #projectId: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: NeutronClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#projectId = options.projectId ?? 'lab';
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? fetch;
  }

  async createNetwork(body: CreateNetworkBody = {}): Promise<Network> {
    return this.#one({ method: 'POST', path: '/v2.0/networks', body: { network: body } }, 'network', networkSchema);
  }

  async deleteNetwork(id: string): Promise<void> {
    await this.#call('DELETE', `/v2.0/networks/${enc(id)}`);
  }

  async showNetwork(id: string): Promise<Network> {
    return this.#one({ method: 'GET', path: `/v2.0/networks/${enc(id)}` }, 'network', networkSchema);
  }

  async createSubnet(body: CreateSubnetBody): Promise<Subnet> {
    return this.#one({ method: 'POST', path: '/v2.0/subnets', body: { subnet: body } }, 'subnet', subnetSchema);
  }

  async showSubnet(id: string): Promise<Subnet> {
    return this.#one({ method: 'GET', path: `/v2.0/subnets/${enc(id)}` }, 'subnet', subnetSchema);
  }

  async deleteSubnet(id: string): Promise<void> {
    await this.#call('DELETE', `/v2.0/subnets/${enc(id)}`);
  }

  async createSecurityGroup(body: CreateSecurityGroupBody): Promise<SecurityGroup> {
    return this.#one({ method: 'POST', path: '/v2.0/security-groups', body: { security_group: body } }, 'security_group', securityGroupSchema);
  }

  async showSecurityGroup(id: string): Promise<SecurityGroup> {
    return this.#one({ method: 'GET', path: `/v2.0/security-groups/${enc(id)}` }, 'security_group', securityGroupSchema);
  }

  async listSecurityGroups(): Promise<SecurityGroup[]> {
    return this.#one({ method: 'GET', path: '/v2.0/security-groups' }, 'security_groups', z.array(securityGroupSchema));
  }

  async deleteSecurityGroup(id: string): Promise<void> {
    await this.#call('DELETE', `/v2.0/security-groups/${enc(id)}`);
  }

  /** Adds a rule; `ethertype` defaults to IPv4 as in Neutron. */
  async createSecurityGroupRule(body: CreateSecurityGroupRuleBody): Promise<SecurityGroupRule> {
    return this.#one({ method: 'POST', path: '/v2.0/security-group-rules', body: { security_group_rule: body } }, 'security_group_rule', ruleSchema);
  }

  async deleteSecurityGroupRule(id: string): Promise<void> {
    await this.#call('DELETE', `/v2.0/security-group-rules/${enc(id)}`);
  }

  async createPort(body: CreatePortBody): Promise<Port> {
    return this.#one({ method: 'POST', path: '/v2.0/ports', body: { port: body } }, 'port', portSchema);
  }

  async updatePort(id: string, body: UpdatePortBody): Promise<Port> {
    return this.#one({ method: 'PUT', path: `/v2.0/ports/${enc(id)}`, body: { port: body } }, 'port', portSchema);
  }

  async showPort(id: string): Promise<Port> {
    return this.#one({ method: 'GET', path: `/v2.0/ports/${enc(id)}` }, 'port', portSchema);
  }

  async listPorts(): Promise<Port[]> {
    return this.#one({ method: 'GET', path: '/v2.0/ports' }, 'ports', z.array(portSchema));
  }

  async deletePort(id: string): Promise<void> {
    await this.#call('DELETE', `/v2.0/ports/${enc(id)}`);
  }

  async createRouter(body: { name?: string; external_gateway_info?: { network_id: string } }): Promise<Router> {
    return this.#one({ method: 'POST', path: '/v2.0/routers', body: { router: body } }, 'router', routerSchema);
  }

  async addRouterInterface(routerId: string, subnetId: string): Promise<void> {
    await this.#call('PUT', `/v2.0/routers/${enc(routerId)}/add_router_interface`, { subnet_id: subnetId });
  }

  async removeRouterInterface(routerId: string, subnetId: string): Promise<void> {
    await this.#call('PUT', `/v2.0/routers/${enc(routerId)}/remove_router_interface`, { subnet_id: subnetId });
  }

  async deleteRouter(id: string): Promise<void> {
    await this.#call('DELETE', `/v2.0/routers/${enc(id)}`);
  }

  async createFloatingIp(body: { floating_network_id: string; port_id?: string; floating_ip_address?: string }): Promise<FloatingIp> {
    return this.#one({ method: 'POST', path: '/v2.0/floatingips', body: { floatingip: body } }, 'floatingip', floatingIpSchema);
  }

  /** Associates with a port, or (`port_id: null`) disassociates. */
  async updateFloatingIp(id: string, body: { port_id: string | null }): Promise<FloatingIp> {
    return this.#one({ method: 'PUT', path: `/v2.0/floatingips/${enc(id)}`, body: { floatingip: body } }, 'floatingip', floatingIpSchema);
  }

  /** Floating IPs, optionally only those on one port. */
  async listFloatingIps(portId?: string): Promise<FloatingIp[]> {
    const query = portId === undefined ? '' : `?port_id=${enc(portId)}`;
    return this.#one({ method: 'GET', path: `/v2.0/floatingips${query}` }, 'floatingips', z.array(floatingIpSchema));
  }

  async deleteFloatingIp(id: string): Promise<void> {
    await this.#call('DELETE', `/v2.0/floatingips/${enc(id)}`);
  }

  async #one<T>(request: { method: string; path: string; body?: unknown }, key: string, schema: z.ZodType<T>): Promise<T> {
    const { method, path } = request;
    const { status, json } = await this.#call(method, path, request.body);
    const parsed = schema.safeParse(typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[key] : undefined);
    if (!parsed.success) {
      throw new LabApiError(
        `${method} ${path}`,
        { httpStatus: status, neutronType: 'InvalidResponse', neutronMessage: `no valid "${key}" in the reply` },
        parsed.error,
      );
    }
    return parsed.data;
  }

  async #call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const request = `${method} ${path}`;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(`${this.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-project-id': this.#projectId },
        signal: AbortSignal.timeout(this.#timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      text = await response.text();
    } catch (err) {
      throw new LabApiError(request, { httpStatus: 0, neutronType: 'ConnectionFailed', neutronMessage: err instanceof Error ? err.message : String(err) }, err);
    }
    let json: unknown = undefined;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (!response.ok) {
      const fault = faultSchema.safeParse(json);
      const details = fault.success
        ? { neutronType: fault.data.NeutronError.type, neutronMessage: fault.data.NeutronError.message }
        : { neutronType: `HTTP${response.status}`, neutronMessage: text.slice(0, 200) };
      throw new LabApiError(request, { httpStatus: response.status, ...details });
    }
    return { status: response.status, json };
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
