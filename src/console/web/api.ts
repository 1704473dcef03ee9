import { useEffect, useState } from 'preact/hooks';
import type { ChangeEvent, ErrorReply } from '../api-types.js';

/** An API error as the page shows it: the server's code, message and any field errors or conflicts. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reply: ErrorReply['error'],
  ) {
    super(reply.message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { Accept: 'application/json', ...(method === 'POST' ? { 'Content-Type': 'application/json', 'X-Console': '1' } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: 'same-origin',
  });
  const data = (await res.json().catch(() => ({ error: { code: 'CONSOLE_BAD_REPLY', message: `HTTP ${res.status}` } }))) as unknown;
  if (!res.ok) {
    const reply = (data as ErrorReply).error ?? { code: 'CONSOLE_BAD_REPLY', message: `HTTP ${res.status}` };
    if (res.status === 401 && reply.code === 'CONSOLE_LOGIN_REQUIRED') window.dispatchEvent(new Event('console-login'));
    throw new ApiError(res.status, reply);
  }
  return data as T;
}

export const get = <T>(path: string): Promise<T> => call<T>('GET', path);
export const post = <T>(path: string, body: unknown): Promise<T> => call<T>('POST', path, body);

type Listener = (e: ChangeEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;

function open(): void {
  const es = new EventSource('/api/events');
  source = es;
  es.onmessage = (m: MessageEvent<string>) => {
    const e = JSON.parse(m.data) as ChangeEvent;
    document.body.dataset['revision'] = String(e.revision);
    for (const x of listeners) x(e);
  };
  // The browser reconnects by itself after a network error (and the first event then refreshes
  // every view). It gives up on an HTTP error (a 401 once the session ended): ask whether a login
  // is needed, and try again a little later.
  es.onerror = () => {
    if (es.readyState !== EventSource.CLOSED || source !== es) return;
    source = undefined;
    window.dispatchEvent(new Event('console-login'));
    setTimeout(() => {
      if (source === undefined && listeners.size > 0) open();
    }, 3_000);
  };
}

// A page left (or kept in the back/forward cache) closes its stream: browsers allow only six
// connections to one server, and a cached page's open stream would hold one of them. A page
// shown again from the cache opens a new one and refreshes everything (it missed the changes).
window.addEventListener('pagehide', () => {
  source?.close();
  source = undefined;
});
window.addEventListener('pageshow', (e) => {
  if (e.persisted && listeners.size > 0 && source === undefined) {
    open();
    for (const x of listeners) x({ topics: ['hosts', 'endpoints', 'networks', 'settings', 'policies'], revision: 0 });
  }
});

/** One EventSource for the page; every live view listens to it. */
function subscribe(l: Listener): () => void {
  listeners.add(l);
  if (source === undefined) open();
  return () => listeners.delete(l);
}

export interface Live<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** True while the first answer is awaited. */
  loading: boolean;
}

/**
 * Fetches `path` now and again whenever the server says one of `topics` changed (never more
 * than one request in flight: a change during a fetch fetches once more after it).
 */
export function useLive<T>(path: string, topics: readonly string[]): Live<T> {
  const [state, setState] = useState<Live<T>>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    // Per path: a fetch still running for the previous path neither blocks nor overwrites this one.
    let alive = true;
    let busy = false;
    let again = false;
    setState((s) => ({ ...s, loading: true }));
    const load = async (): Promise<void> => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        do {
          again = false;
          try {
            const data = await get<T>(path);
            if (alive) setState({ data, error: undefined, loading: false });
          } catch (err) {
            if (alive)
              setState((s) => ({
                ...s,
                error: err instanceof ApiError ? err : new ApiError(0, { code: 'CONSOLE_UNREACHABLE', message: String(err) }),
                loading: false,
              }));
          }
        } while (again && alive);
      } finally {
        busy = false;
      }
    };
    void load();
    const off = subscribe((e) => {
      if (e.topics.some((t) => topics.includes(t))) void load();
    });
    return () => {
      alive = false;
      off();
    };
  }, [path, topics.join(',')]);
  return state;
}
