// Reads what `tempest run` prints (stestr's subunit-trace): one line per test, then its totals.

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestLine {
  readonly id: string;
  readonly status: TestStatus;
  /** Why a test was skipped (tempest's message), when it was. */
  readonly reason?: string;
}

export interface TempestOutcome {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failedTests: readonly string[];
  /** Skip reason -> how many tests it skipped. */
  readonly skipReasons: Readonly<Record<string, number>>;
  /** subunit-trace's own totals, when it printed them (a check on the per-line count). */
  readonly totals?: { readonly passed: number; readonly failed: number; readonly skipped: number };
}

// `{0} tempest.api.network.test_ports.PortsTestJSON.test_create_port_in_allowed_allocation_pools [0.312s] ... ok`
// `{0} setUpClass (tempest.api.network.test_tags.TagsExtTest) [0.000000s] ... FAILED`
// `{0} tempest.api.network.test_routers.RoutersTest ... SKIPPED: router extension not enabled.`
const LINE = /^\{\d+\}\s+(\S+(?: \([^)]*\))?)(?:\s+\[[^\]]*\])?\s+\.\.\.\s+(ok|FAILED|SKIPPED(?::\s*(.*))?)\s*$/;

/** One test's line, or undefined for any other line (tracebacks, logs, totals). */
export function parseTestLine(line: string): TestLine | undefined {
  const m = LINE.exec(line.trimEnd());
  if (m === null) return undefined;
  const id = m[1] ?? '';
  const word = m[2] ?? '';
  if (word === 'ok') return { id, status: 'passed' };
  if (word === 'FAILED') return { id, status: 'failed' };
  return { id, status: 'skipped', reason: (m[3] ?? '').trim() || '(no reason given)' };
}

/** Counts a run's test lines; a test reported twice (a retried class) counts by its last line. */
export function tempestOutcome(output: string): TempestOutcome {
  const last = new Map<string, TestLine>();
  for (const line of output.split('\n')) {
    const t = parseTestLine(line);
    if (t !== undefined) last.set(t.id, t);
  }
  const all = [...last.values()];
  const skipReasons: Record<string, number> = {};
  for (const t of all) if (t.status === 'skipped' && t.reason !== undefined) skipReasons[t.reason] = (skipReasons[t.reason] ?? 0) + 1;
  const total = (word: string): number | undefined => {
    const m = new RegExp(`^\\s*-\\s*${word}:\\s*(\\d+)\\s*$`, 'm').exec(output);
    return m === null ? undefined : Number(m[1]);
  };
  const [p, f, s] = [total('Passed'), total('Failed'), total('Skipped')];
  return {
    passed: all.filter((t) => t.status === 'passed').length,
    failed: all.filter((t) => t.status === 'failed').length,
    skipped: all.filter((t) => t.status === 'skipped').length,
    failedTests: all.filter((t) => t.status === 'failed').map((t) => t.id),
    skipReasons,
    ...(p !== undefined && f !== undefined && s !== undefined ? { totals: { passed: p, failed: f, skipped: s } } : {}),
  };
}
