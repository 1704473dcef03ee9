import type { ComponentChildren } from 'preact';
import type { Paged } from '../api-types.js';
import type { ApiError, Live } from './api.js';

/** `#/path?query`: the page's current route. */
export function routeOf(hash: string): { path: string[]; query: URLSearchParams } {
  const [p = '', q = ''] = hash.replace(/^#/, '').split('?');
  return {
    path: p
      .split('/')
      .filter((x) => x !== '')
      .map(decodeURIComponent),
    query: new URLSearchParams(q),
  };
}

export function href(path: readonly string[], query: Record<string, string | number | undefined> = {}): string {
  const qs = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `#/${path.map(encodeURIComponent).join('/')}${qs === '' ? '' : `?${qs}`}`;
}

export function ErrorBox({ error }: { error: ApiError | undefined }) {
  if (error === undefined) return null;
  return (
    <p role="alert" class="error">
      {error.message}
    </p>
  );
}

/** Shows the page once loaded, its error, or "Loading". */
export function Loaded<T>({ live, children }: { live: Live<T>; children: (data: T) => ComponentChildren }) {
  if (live.data === undefined) return live.error !== undefined ? <ErrorBox error={live.error} /> : <p aria-busy="true">Loading…</p>;
  return (
    <>
      <ErrorBox error={live.error} />
      {children(live.data)}
    </>
  );
}

/** A table's column headings. */
export function TableHead({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

export function Badge({ ok, yes, no }: { ok: boolean; yes: string; no: string }) {
  return <span class={ok ? 'badge ok' : 'badge bad'}>{ok ? yes : no}</span>;
}

export function StateBadge({ state }: { state: string }) {
  const cls = state === 'Established' || state === 'up' ? 'ok' : state === 'unknown' ? 'muted' : 'bad';
  return <span class={`badge ${cls}`}>{state}</span>;
}

/** A search box that updates the route's `q` (Enter or leaving the field). */
export function Search({ label, value, onSearch }: { label: string; value: string; onSearch: (q: string) => void }) {
  return (
    <form
      role="search"
      class="search"
      onSubmit={(e) => {
        e.preventDefault();
        const input = e.currentTarget.elements.namedItem('q') as HTMLInputElement;
        onSearch(input.value);
      }}
    >
      <label>
        {label} <input name="q" type="search" value={value} />
      </label>
      <button type="submit">Search</button>
    </form>
  );
}

export function Pager<T>({ page, go }: { page: Paged<T>; go: (n: number) => void }) {
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" disabled={page.page <= 1} onClick={() => go(page.page - 1)}>
        Previous
      </button>
      <span>
        page {page.page} of {pages} ({page.total} in all)
      </span>
      <button type="button" disabled={page.page >= pages} onClick={() => go(page.page + 1)}>
        Next
      </button>
    </nav>
  );
}

export function ago(time: string | undefined, now = Date.now()): string {
  if (time === undefined) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(time)) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '—';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
