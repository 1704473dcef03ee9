// Runs inside a VM's namespace (`ip netns exec <vm> node metadata-poll-main.js UUID EVERY_MS
// TIMEOUT_MS`), started as soon as the namespace exists, before the VM has an address: every
// EVERY_MS it starts a new GET of http://169.254.169.254/openstack/latest/meta_data.json on a
// fresh connection (attempts overlap, so one whose SYN or ARP went unanswered does not hold the
// next back), until one answers 200 with `"uuid": UUID`. Node's http: busybox wget segfaults here.
// Prints one line each, wall-clock ms since the epoch (sub-millisecond):
//   start <ms>
//   first <ms> <status>                   the first HTTP answer of any kind
//   ok <ms> <attempts> <status> <uuid>    the answer wanted (then exits)
//   timeout <ms> <attempts> <last error>  none within TIMEOUT_MS (then exits)
import { get } from 'node:http';
import { setPriority } from 'node:os';

// Started under `nice -n 19`, so that Node's own start-up (~0.1 s of CPU) does not take a core
// from the plugging, udhcpc, dnsmasq and the agent it is measuring; back to normal priority
// (we run as root) before the first poll.
try {
  setPriority(0);
} catch {
  // not root: stays niced
}

const [uuid = '', everyArg = '20', timeoutArg = '15000'] = process.argv.slice(2);
const EVERY_MS = Number(everyArg);
const TIMEOUT_MS = Number(timeoutArg);
const MAX_IN_FLIGHT = 64;
const wall = (): number => performance.timeOrigin + performance.now();
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

let attempts = 0;
let inFlight = 0;
let lastError = 'none';
let answered = false;
let done = false;
const started = wall();
say(`start ${started.toFixed(3)}`);

function finish(line: string): void {
  if (done) return;
  done = true;
  say(line);
  process.exit(0);
}

function attempt(): void {
  if (done || inFlight >= MAX_IN_FLIGHT) return;
  attempts++;
  inFlight++;
  const req = get({ host: '169.254.169.254', port: 80, path: '/openstack/latest/meta_data.json', agent: false, timeout: 3_000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => {
      inFlight--;
      const at = wall();
      const status = res.statusCode ?? 0;
      if (!answered) {
        answered = true;
        say(`first ${at.toFixed(3)} ${status}`);
      }
      let got: unknown;
      try {
        got = (JSON.parse(body) as { uuid?: unknown }).uuid;
      } catch {
        got = undefined;
      }
      if (status === 200 && got === uuid) finish(`ok ${at.toFixed(3)} ${attempts} ${status} ${uuid}`);
      else lastError = `HTTP ${status} ${body.slice(0, 80).replace(/\s+/g, ' ')}`;
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err: NodeJS.ErrnoException) => {
    inFlight--;
    lastError = err.code ?? err.message;
  });
}

attempt();
const timer = setInterval(attempt, EVERY_MS);
setTimeout(() => {
  clearInterval(timer);
  finish(`timeout ${wall().toFixed(3)} ${attempts} ${lastError}`);
}, TIMEOUT_MS);
