import Fastify from 'fastify';
import type { Registry } from 'prom-client';

/** What the health endpoints report on. */
export interface HealthSource {
  /** The main loop is running (not wedged). */
  live(): boolean;
  /** In sync with the datastore and the dataplane programmed at least once. */
  ready(): boolean;
  /** A small JSON object explaining the state. */
  detail(): Record<string, unknown>;
}

export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Felix's health and metrics endpoints: `GET /liveness` and `GET /readiness` (200 with detail,
 * 503 when not), and `GET /metrics` in Prometheus text format.
 */
export async function startHealthServer(o: { host: string; port: number; health: HealthSource; registry: Registry }): Promise<HealthServer> {
  const app = Fastify({ logger: false });
  app.get('/liveness', async (_req, reply) => reply.code(o.health.live() ? 200 : 503).send({ live: o.health.live(), ...o.health.detail() }));
  app.get('/readiness', async (_req, reply) => reply.code(o.health.ready() ? 200 : 503).send({ ready: o.health.ready(), ...o.health.detail() }));
  app.get('/metrics', async (_req, reply) => reply.type(o.registry.contentType).send(await o.registry.metrics()));
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
  return { url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`, close: () => app.close() };
}
