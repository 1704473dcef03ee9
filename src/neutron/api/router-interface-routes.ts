import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NeutronServices } from '../service/neutron-services.js';
import type { Authenticator } from './auth.js';
import { faults } from '../errors.js';
import type { RequestContext } from '../service/neutron-deps.js';
import { authorizeOn, callerPolicy, type PolicySource } from './policy-enforcement.js';
import { parseUpdate, ROUTER_INTERFACE, type RouterInterfaceInput } from '../resources/index.js';

/** `PUT /v2.0/routers/{id}/add_router_interface` and `remove_router_interface` (body unwrapped: `{"subnet_id": ...}`). */
export function registerRouterInterfaces(app: FastifyInstance, s: NeutronServices, auth: Authenticator, policy: PolicySource): void {
  /** The caller may act on the router (404 when it may not see it, 403 naming the rule otherwise). */
  const authorized = async (ctx: RequestContext, id: string, rule: 'add_router_interface' | 'remove_router_interface'): Promise<void> => {
    const router = await s.routers.get(id);
    await authorizeOn(callerPolicy(policy, ctx), {
      getRule: 'get_router',
      rules: [rule],
      existing: () => Promise.resolve(router),
      notFound: () => faults.notFound('Router', id),
    });
  };
  const bodyOf = (req: FastifyRequest): RouterInterfaceInput => parseUpdate({ interface: req.body ?? {} }, ROUTER_INTERFACE);
  for (const suffix of ['', '.json']) {
    app.put<{ Params: { id: string } }>(`/v2.0/routers/:id/add_router_interface${suffix}`, async (req, reply) => {
      const ctx = await auth.authenticate(req.headers);
      const body = bodyOf(req);
      await authorized(ctx, req.params.id, 'add_router_interface');
      return reply.send(await s.routers.addInterface(ctx, req.params.id, body));
    });
    app.put<{ Params: { id: string } }>(`/v2.0/routers/:id/remove_router_interface${suffix}`, async (req, reply) => {
      const ctx = await auth.authenticate(req.headers);
      const body = bodyOf(req);
      await authorized(ctx, req.params.id, 'remove_router_interface');
      return reply.send(await s.routers.removeInterface(ctx, req.params.id, body));
    });
  }
}
