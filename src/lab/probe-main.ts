// The lab's prober and responder, run inside a namespace by `ip netns exec <ns> node probe-main.js …`.
//
//   serve [--tcp 8080,9000] [--udp 5353] [--bind <ip>,<ip>]
//       echo servers on every port and address (default address `::`, both families); prints
//       `ready` once all listen and runs until SIGTERM.
//   check tcp|udp <ip> <port> [--timeout-ms 1000] [--source <ip>]
//       sends a random token and waits for it to come back; prints `answered`, `refused`,
//       `timeout` or `error: …`; exits 0 only if the token came back, else 1 (2: bad usage).
//
// Addresses are numeric only: nothing here ever looks a name up. `--source` binds the sending
// socket to that address, e.g. to send with a spoofed source; the address must be on an
// interface of the namespace first (`ip addr add <spoof>/32 dev eth0` inside the VM).
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net, { type LookupFunction } from 'node:net';

type Exit = (code: number) => never;

const noLookup: LookupFunction = (hostname, _options, callback) => {
  callback(new Error(`probe: refusing to look up ${hostname}: numeric addresses only`), '', 4);
};
// dgram passes every address through its lookup, numeric ones included: let those through.
const noDgramLookup = (hostname: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void => {
  const family = net.isIP(hostname);
  if (family === 0) callback(new Error(`probe: refusing to look up ${hostname}: numeric addresses only`), '', 4);
  else callback(null, hostname, family);
};

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function usage(exit: Exit, problem: string): never {
  process.stderr.write(
    `probe: ${problem}\nusage: probe-main serve [--tcp P,P] [--udp P,P] [--bind IP,IP] | check tcp|udp IP PORT [--timeout-ms MS] [--source IP]\n`,
  );
  return exit(2);
}

function parseFlags(args: readonly string[], exit: Exit): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a.startsWith('--')) {
      const v = args[i + 1];
      if (v === undefined) usage(exit, `${a} needs a value`);
      flags.set(a.slice(2), v);
      i++;
    } else {
      positional.push(a);
    }
  }
  return { positional, flags };
}

function parsePorts(text: string | undefined, exit: Exit): number[] {
  if (text === undefined || text === '') return [];
  return text.split(',').map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) usage(exit, `bad port ${JSON.stringify(p)}`);
    return n;
  });
}

function parseAddress(text: string, exit: Exit): string {
  if (net.isIP(text) === 0) usage(exit, `not a numeric IP address: ${JSON.stringify(text)}`);
  return text;
}

async function serve(flags: Map<string, string>, exit: Exit): Promise<void> {
  const tcp = parsePorts(flags.get('tcp'), exit);
  const udp = parsePorts(flags.get('udp'), exit);
  const binds = (flags.get('bind') ?? '::').split(',').map((a) => parseAddress(a, exit));
  const closers: (() => void)[] = [];
  const listening: Promise<void>[] = [];
  for (const address of binds) {
    for (const port of tcp) {
      const server = net.createServer((socket) => {
        socket.on('error', () => socket.destroy());
        socket.on('data', (d) => socket.write(d));
      });
      listening.push(
        new Promise((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: address, port, ipv6Only: false }, () => resolve());
        }),
      );
      closers.push(() => server.close());
    }
    for (const port of udp) {
      const socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4', lookup: noDgramLookup });
      socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
      listening.push(
        new Promise((resolve, reject) => {
          socket.once('error', reject);
          socket.bind({ address, port }, () => {
            socket.removeListener('error', reject);
            socket.on('error', () => {});
            resolve();
          });
        }),
      );
      closers.push(() => socket.close());
    }
  }
  try {
    await Promise.all(listening);
  } catch (err) {
    process.stderr.write(`probe: cannot listen: ${err instanceof Error ? err.message : String(err)}\n`);
    exit(1);
  }
  process.once('SIGTERM', () => {
    for (const c of closers) c();
    exit(0);
  });
  out('ready');
}

function checkTcp(target: { ip: string; port: number; source: string | undefined; timeoutMs: number }): Promise<string> {
  return new Promise((resolve) => {
    const token = randomBytes(8).toString('hex');
    const socket = net.connect({
      host: target.ip,
      port: target.port,
      lookup: noLookup,
      ...(target.source === undefined ? {} : { localAddress: target.source }),
    });
    let got = '';
    const done = (outcome: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('timeout'), target.timeoutMs);
    socket.on('connect', () => socket.write(`${token}\n`));
    socket.on('data', (d) => {
      got += d.toString('utf8');
      if (got.includes(token)) done('answered');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : `error: ${err.message}`));
    socket.on('end', () => done('error: closed without echo'));
  });
}

function checkUdp(target: { ip: string; port: number; source: string | undefined; timeoutMs: number }): Promise<string> {
  return new Promise((resolve) => {
    const token = Buffer.from(randomBytes(8).toString('hex'));
    const socket = dgram.createSocket({ type: net.isIPv6(target.ip) ? 'udp6' : 'udp4', lookup: noDgramLookup });
    let resend: NodeJS.Timeout | undefined;
    const done = (outcome: string): void => {
      clearTimeout(timer);
      clearInterval(resend);
      try {
        socket.close();
      } catch {
        // never bound
      }
      resolve(outcome);
    };
    const timer = setTimeout(() => done('timeout'), target.timeoutMs);
    socket.on('error', (err) => done(`error: ${err.message}`));
    socket.on('message', (msg) => {
      if (msg.equals(token)) done('answered');
    });
    const send = (): void => socket.send(token, target.port, target.ip);
    // Datagrams may be lost (e.g. while the neighbour is resolved): resend until the deadline.
    socket.bind({ port: 0, ...(target.source === undefined ? {} : { address: target.source }) }, () => {
      send();
      resend = setInterval(send, 200);
    });
  });
}

async function check(positional: readonly string[], flags: Map<string, string>, exit: Exit): Promise<void> {
  const [, kind, ipText, portText] = positional;
  if (kind !== 'tcp' && kind !== 'udp') usage(exit, 'check needs tcp or udp');
  const ip = parseAddress(ipText ?? '', exit);
  const [port] = parsePorts(portText, exit);
  if (port === undefined) usage(exit, 'check needs a port');
  const timeoutMs = Number(flags.get('timeout-ms') ?? '1000');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) usage(exit, 'bad --timeout-ms');
  const sourceText = flags.get('source');
  const source = sourceText === undefined ? undefined : parseAddress(sourceText, exit);
  const target = { ip, port, source, timeoutMs };
  const outcome = kind === 'tcp' ? await checkTcp(target) : await checkUdp(target);
  out(outcome);
  exit(outcome === 'answered' ? 0 : 1);
}

async function main(args: readonly string[]): Promise<void> {
  const exit: Exit = (code) => process.exit(code);
  const { positional, flags } = parseFlags(args, exit);
  if (positional[0] === 'serve') await serve(flags, exit);
  else if (positional[0] === 'check') await check(positional, flags, exit);
  else usage(exit, 'want serve or check');
}

await main(process.argv.slice(2));
