import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NeutronServices } from '../service/neutron-services.js';
import { parseBody } from './attributes.js';
import type { Authenticator } from './auth.js';
import { ROUTER_INTERFACE_SPECS } from './resource-specs.js';

/** `PUT /v2.0/routers/{id}/add_router_interface` and `remove_router_interface` (body unwrapped: `{"subnet_id": ...}`). */
export function registerRouterInterfaces(app: FastifyInstance, s: NeutronServices, auth: Authenticator): void {
  const bodyOf = (req: FastifyRequest): { subnet_id?: string; port_id?: string } => {
    const [attrs] = parseBody({ interface: req.body ?? {} }, ROUTER_INTERFACE_SPECS, {
      resource: 'interface',
      collection: 'interfaces',
      mode: 'update',
      isAdmin: true,
    });
    return attrs ?? {};
  };
  for (const suffix of ['', '.json']) {
    app.put<{ Params: { id: string } }>(`/v2.0/routers/:id/add_router_interface${suffix}`, async (req, reply) => {
      const ctx = await auth.authenticate(req.headers);
      return reply.send(await s.routers.addInterface(ctx, req.params.id, bodyOf(req)));
    });
    app.put<{ Params: { id: string } }>(`/v2.0/routers/:id/remove_router_interface${suffix}`, async (req, reply) => {
      const ctx = await auth.authenticate(req.headers);
      return reply.send(await s.routers.removeInterface(ctx, req.params.id, bodyOf(req)));
    });
  }
}
