import { realExec, type ChildHandle } from '../../lib/index.js';
import { trackChild, untilPasses } from '../../lib/testing.js';
import type { Netns } from '../netns.js';

/**
 * A TCP server in namespace `netns` on `address:port` that answers every connection with the
 * source address it saw, then closes: what NAT tests ask ("who did you see?"). Resolves once it
 * listens; the caller kills it (it is also tracked for the test run's cleanup).
 */
export async function startSourceReporter(netns: string, address: string, port: number): Promise<ChildHandle> {
  const server = realExec().spawn('ip', [
    'netns',
    'exec',
    netns,
    process.execPath,
    '-e',
    `require('net').createServer((s) => s.end(s.remoteAddress)).listen(${port}, '${address}', () => console.log('ready'))`,
  ]);
  trackChild(server);
  server.stdin.end();
  let ready = '';
  server.stdout.setEncoding('utf8').on('data', (d: string) => (ready += d));
  server.stderr.resume();
  await untilPasses(() => {
    if (!ready.includes('ready')) throw new Error(`the source reporter in ${netns} is not listening on ${address}:${port} yet`);
  });
  return server;
}

/** From inside `from`: connect to a source reporter and return what it said, or `NOTHING`. */
export async function askSourceReporter(from: Netns, address: string, port: number): Promise<string> {
  const script = `const s = require('net').connect({ host: '${address}', port: ${port}, timeout: 1500 }); let d = ''; s.on('data', (c) => (d += c)); s.on('end', () => { console.log(d || 'NOTHING'); process.exit(0); }); s.on('timeout', () => { console.log('NOTHING'); process.exit(0); }); s.on('error', () => { console.log('NOTHING'); process.exit(0); });`;
  return (await from.must(process.execPath, ['-e', script])).trim();
}
