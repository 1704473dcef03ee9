import { request } from 'node:http';
import { z } from 'zod';
import { InstanceNotFoundError, NeutronLookupError } from './errors.js';

/** The instance behind an address, as the metadata documents need it. */
export interface Instance {
  readonly uuid: string;
  readonly projectId: string;
  readonly portId: string;
  readonly name: string;
  readonly mac: string;
  readonly host: string;
  readonly fixedIps: readonly string[];
}

const portsSchema = z.object({
  ports: z.array(
    z
      .object({
        id: z.string(),
        name: z.string().optional(),
        device_id: z.string(),
        device_owner: z.string(),
        project_id: z.string().optional(),
        tenant_id: z.string().optional(),
        mac_address: z.string(),
        'binding:host_id': z.string().nullable().optional(),
        fixed_ips: z.array(z.object({ ip_address: z.string() }).loose()),
      })
      .loose(),
  ),
});

/** Where Neutron is: an HTTP root, or a Unix socket of `brindle api --listen-socket`. */
export type NeutronEndpoint = { readonly url: string } | { readonly socketPath: string };

function get(endpoint: NeutronEndpoint, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = 'url' in endpoint ? new URL(path, endpoint.url) : undefined;
    const req = request(
      target === undefined
        ? { socketPath: 'socketPath' in endpoint ? endpoint.socketPath : '', path, method: 'GET', headers: { accept: 'application/json' } }
        : { hostname: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: 'GET', headers: { accept: 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Finds the instance that owns `address`, as Nova's metadata service does with Neutron: the
 * port with that fixed IP (`GET /v2.0/ports?fixed_ips=ip_address=…`), owned by Nova
 * (`device_owner` `compute:*`) and bound to an instance (`device_id`).
 */
export async function lookupInstance(endpoint: NeutronEndpoint, address: string, timeoutMs = 5_000): Promise<Instance> {
  let r;
  try {
    r = await get(endpoint, `/v2.0/ports?fixed_ips=${encodeURIComponent(`ip_address=${address}`)}`, timeoutMs);
  } catch (err) {
    throw new NeutronLookupError(err instanceof Error ? err.message : String(err), err);
  }
  if (r.status !== 200) throw new NeutronLookupError(`GET /v2.0/ports answered ${r.status}`);
  let parsed;
  try {
    parsed = portsSchema.parse(JSON.parse(r.body));
  } catch (err) {
    throw new NeutronLookupError('an answer that is not a port list', err);
  }
  const port = parsed.ports.find((p) => p.device_owner.startsWith('compute:') && p.device_id !== '' && p.fixed_ips.some((f) => f.ip_address === address));
  if (port === undefined) throw new InstanceNotFoundError(address);
  return {
    uuid: port.device_id,
    projectId: port.project_id ?? port.tenant_id ?? '',
    portId: port.id,
    name: port.name ?? '',
    mac: port.mac_address,
    host: port['binding:host_id'] ?? '',
    fixedIps: port.fixed_ips.map((f) => f.ip_address),
  };
}
