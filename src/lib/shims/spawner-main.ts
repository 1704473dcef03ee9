// The spawner: a small, long-lived Node process that runs commands for a big one. Forking a
// process copies its page tables, so a command started from an agent holding hundreds of MB
// costs several ms of its main thread each time; started from here it costs a fraction of one.
// Protocol: one JSON request per stdin line `{id, command, args, input?, timeoutMs?}`, one
// JSON answer per stdout line `{id, code, signal, stdout, stderr}`, in completion order.
// It exits when its stdin closes (its parent went away), once the commands it runs have ended.
import { createInterface } from 'node:readline';
import { realExec } from './exec.js';

interface Request {
  readonly id: number;
  readonly command: string;
  readonly args: readonly string[];
  readonly input?: string;
  readonly timeoutMs?: number;
}

const exec = realExec();
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let running = 0;
let closing = false;
lines.on('line', (line) => {
  let req: Request;
  try {
    req = JSON.parse(line) as Request;
  } catch {
    return;
  }
  running++;
  void exec
    .run(req.command, req.args, {
      ...(req.input === undefined ? {} : { input: req.input }),
      ...(req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }),
    })
    .then((r) => {
      process.stdout.write(`${JSON.stringify({ id: req.id, code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr })}\n`);
      running--;
      if (closing && running === 0) process.exit(0);
    });
});
lines.on('close', () => {
  // A command half done (an nft transaction, a route batch) finishes rather than being orphaned.
  closing = true;
  if (running === 0) process.exit(0);
});
