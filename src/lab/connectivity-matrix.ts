import { describeError } from '../lib/index.js';
import type { ProbeKind } from './probe.js';

/** One expected fact: `from` can (or cannot) reach `to` with `kind` (on `port` for tcp/udp). */
export interface MatrixCheck {
  readonly from: string;
  readonly to: string;
  readonly kind: ProbeKind;
  readonly port?: number;
  readonly expect: boolean;
}

export interface MatrixResult extends MatrixCheck {
  /** Whether the probe got an answer (false if it failed to run). */
  readonly actual: boolean;
  /** `actual === expect`, and the probe ran. */
  readonly ok: boolean;
  /** Why the probe could not run, if it threw. */
  readonly error?: string;
}

/**
 * Runs every check through `run` (at most `concurrency` at once, default 8) and reports each
 * with its outcome, in the order given. A check whose `run` throws counts as not as expected.
 */
export async function runMatrix(
  checks: readonly MatrixCheck[],
  run: (check: MatrixCheck) => Promise<boolean>,
  options: { readonly concurrency?: number } = {},
): Promise<MatrixResult[]> {
  const results: MatrixResult[] = new Array<MatrixResult>(checks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < checks.length) {
      const i = next++;
      const check = checks[i];
      if (check === undefined) continue;
      try {
        const actual = await run(check);
        results[i] = { ...check, actual, ok: actual === check.expect };
      } catch (err) {
        results[i] = { ...check, actual: false, ok: false, error: describeError(err) };
      }
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? 8, checks.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}

function label(r: MatrixCheck): string {
  return r.kind === 'ping' || r.port === undefined ? r.kind : `${r.kind}:${r.port}`;
}

function cell(r: MatrixResult): string {
  return `${label(r)} ${r.actual ? '✓' : '✗'}${r.ok ? '' : '!'}`;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

/**
 * A printable table: a row per source, a column per destination, each cell listing its probes
 * (`ping ✓ tcp:22 ✗ udp:53 ✓`) with `!` after any that was not as expected; then the
 * mismatches one per line and a summary line `N of M as expected`.
 */
export function formatMatrix(results: readonly MatrixResult[]): string {
  const froms = [...new Set(results.map((r) => r.from))];
  // Columns in the rows' order where they are sources too (a square matrix reads diagonally).
  const allTos = new Set(results.map((r) => r.to));
  const tos = [...new Set([...froms.filter((f) => allTos.has(f)), ...allTos])];
  const cells = new Map<string, string>();
  for (const r of results) {
    const key = `${r.from}\u0000${r.to}`;
    const prev = cells.get(key);
    cells.set(key, prev === undefined ? cell(r) : `${prev} ${cell(r)}`);
  }
  const corner = 'from \\ to';
  const rows: string[][] = [[corner, ...tos], ...froms.map((f) => [f, ...tos.map((t) => cells.get(`${f}\u0000${t}`) ?? '-')])];
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((row) => [...(row[c] ?? '')].length)));
  const lines = rows.map((row) =>
    row
      .map((text, c) => pad(text, widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const bad = results.filter((r) => !r.ok);
  if (bad.length > 0) {
    lines.push('');
    for (const r of bad) {
      const why = r.error === undefined ? `got ${r.actual ? '✓' : '✗'}` : `probe failed: ${r.error}`;
      lines.push(`! ${r.from} -> ${r.to} ${label(r)}: expected ${r.expect ? '✓' : '✗'}, ${why}`);
    }
  }
  lines.push('', `${results.length - bad.length} of ${results.length} as expected (✓ answered, ✗ no answer, ! not as expected)`);
  return `${lines.join('\n')}\n`;
}
