import type { FastifyInstance } from 'fastify';
import type { KvStore } from '../../datastore/index.js';

/** How long /healthcheck waits for the datastore before answering 503. */
const HEALTHCHECK_TIMEOUT_MS = 2_000;

/**
 * oslo.middleware's healthcheck, as neutron-server serves it (no token; GET and HEAD): 200 `OK`
 * while the datastore answers a read within 2 s, else 503 `DATASTORE UNAVAILABLE`, so a load
 * balancer takes this server out of rotation while it could only fail requests.
 */
export function registerHealthcheck(app: FastifyInstance, kv: Pick<KvStore, 'revision'>): void {
  app.get('/healthcheck', async (_req, reply) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = await Promise.race([
      kv.revision().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), HEALTHCHECK_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    return reply
      .code(answered ? 200 : 503)
      .header('content-type', 'text/plain; charset=UTF-8')
      .send(answered ? 'OK' : 'DATASTORE UNAVAILABLE');
  });
}
