// Child process of the BGP benchmark, run inside a namespace (`ip netns exec NS node
// fib-poll-main.js`): counts the prefixes of the namespace's IPv4 main table from
// /proc/net/fib_triestat (the kernel walks its trie; no route dump, no fork) every POLL_MS, and
// answers requests on stdin, one per line:
//   `<id> now`        -> `<id> <wall ms> <count> 1` at once
//   `<id> ge <n>`     -> `<id> <wall ms> <count> <polls>` once the count is >= n
//   `<id> le <n>`     -> the same once the count is <= n
//   `<id> ne <n>`     -> the same once the count differs from n
// The wall time is when the read that first met the condition started (performance.timeOrigin +
// performance.now(), the clock the parent uses). Exits when stdin closes.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const POLL_MS = Number(process.env['BENCH_FIB_POLL_MS'] ?? '2');
const MAIN = /Main:\n(?:[^\n]*\n)*?\s*Prefixes:\s+(\d+)/;

function count(): number {
  const m = MAIN.exec(readFileSync('/proc/net/fib_triestat', 'utf8'));
  if (m === null) throw new Error('no "Main: … Prefixes:" in /proc/net/fib_triestat');
  return Number(m[1]);
}

interface Wait {
  readonly id: string;
  readonly test: (n: number) => boolean;
  polls: number;
}

const waits: Wait[] = [];
let timer: NodeJS.Timeout | undefined;
const wall = (): number => performance.timeOrigin + performance.now();

function poll(): void {
  timer = undefined;
  const at = wall();
  const n = count();
  for (let i = waits.length - 1; i >= 0; i--) {
    const w = waits[i];
    if (w === undefined) continue;
    w.polls++;
    if (w.test(n)) {
      process.stdout.write(`${w.id} ${at.toFixed(3)} ${n} ${w.polls}\n`);
      waits.splice(i, 1);
    }
  }
  if (waits.length > 0) timer = setTimeout(poll, POLL_MS);
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [id, op, arg] = line.trim().split(/\s+/);
  if (id === undefined || op === undefined) return;
  if (op === 'now') {
    process.stdout.write(`${id} ${wall().toFixed(3)} ${count()} 1\n`);
    return;
  }
  const n = Number(arg);
  const test = op === 'ge' ? (c: number) => c >= n : op === 'le' ? (c: number) => c <= n : (c: number) => c !== n;
  waits.push({ id, test, polls: 0 });
  if (timer === undefined) poll();
});
rl.on('close', () => {
  if (timer !== undefined) clearTimeout(timer);
  process.exit(0);
});
