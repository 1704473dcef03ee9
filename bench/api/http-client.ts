// The one HTTP client every server is measured with: node:http over keep-alive connections
// (up to 16 open, one per concurrent worker), JSON in and out, each call timed from just before
// the request is written to the end of the response body. Non-2xx replies and transport errors
// are recorded (request and response, truncated) so the report can name them exactly.
import { Agent, request } from 'node:http';
import { now } from '../datastore/workload.js';

export interface Reply {
  readonly status: number;
  readonly body: string;
  /** Milliseconds from sending the request to the end of the response. */
  readonly ms: number;
}

export interface FailedCall {
  readonly phase: string;
  readonly method: string;
  readonly path: string;
  readonly request: string;
  /** HTTP status, or 0 for a transport error (connection refused or reset, timeout). */
  readonly status: number;
  readonly response: string;
  readonly at: string;
}

const SAMPLE_CHARS = 600;
const KEPT_SAMPLES = 8;
const TIMEOUT_MS = 60_000;

function truncate(s: string): string {
  return s.length <= SAMPLE_CHARS ? s : `${s.slice(0, SAMPLE_CHARS)}… (${s.length} chars)`;
}

export class ApiClient {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 16 });
  readonly #host: string;
  readonly #port: number;
  /** Failures per phase, and the first few in full. */
  readonly failures = new Map<string, number>();
  readonly samples: FailedCall[] = [];
  phase = 'setup';

  readonly #extraHeaders: Readonly<Record<string, string>>;

  /** `headers` go with every call (an X-Auth-Token). */
  constructor(baseUrl: string, headers: Readonly<Record<string, string>> = {}) {
    this.#extraHeaders = headers;
    const u = new URL(baseUrl);
    this.#host = u.hostname;
    this.#port = Number(u.port);
  }

  /** One call; never throws for HTTP or transport errors (status 0 for the latter). */
  call(method: string, path: string, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Accept: 'application/json', ...this.#extraHeaders };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    return new Promise<Reply>((resolve) => {
      const t0 = now();
      const done = (status: number, text: string): void => {
        const reply = { status, body: text, ms: now() - t0 };
        if (status < 200 || status > 299) this.#record(method, path, payload ?? '', reply);
        resolve(reply);
      };
      const req = request({ host: this.#host, port: this.#port, method, path, headers, agent: this.#agent, timeout: TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        res.on('error', (err) => done(0, `response error: ${err.message}`));
      });
      req.on('timeout', () => req.destroy(new Error(`no response in ${TIMEOUT_MS} ms`)));
      req.on('error', (err) => done(0, `transport error: ${err.message}`));
      req.end(payload);
    });
  }

  /** A call that must succeed: returns the parsed body, throws with the exchange otherwise. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call(method, path, body);
    if (r.status < 200 || r.status > 299) {
      throw new Error(`${method} ${path} ${body === undefined ? '' : truncate(JSON.stringify(body))} -> ${r.status} ${truncate(r.body)}`);
    }
    return JSON.parse(r.body) as T;
  }

  #record(method: string, path: string, requestBody: string, reply: Reply): void {
    this.recordFailure(method, path, requestBody, reply.status, reply.body);
  }

  /** Counts a failure in the current phase (also for a 2xx reply whose content is wrong). */
  recordFailure(method: string, path: string, requestBody: string, status: number, response: string): void {
    this.failures.set(this.phase, (this.failures.get(this.phase) ?? 0) + 1);
    if (this.samples.length < KEPT_SAMPLES) {
      this.samples.push({
        phase: this.phase,
        method,
        path,
        request: truncate(requestBody),
        status,
        response: truncate(response),
        at: new Date().toISOString(),
      });
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}
