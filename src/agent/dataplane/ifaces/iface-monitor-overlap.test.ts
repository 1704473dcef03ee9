// The monitor's bookkeeping when a listing and events overlap, with a scripted `ip` (pure logic;
// iface-monitor.test.ts shows the real `ip monitor` end to end).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { realClock, type ChildHandle, type Exec, type RunResult } from '../../../lib/index.js';
import { eventually } from '../../../lib/testing.js';
import { IfaceMonitor, type IfaceMap } from './iface-monitor.js';

function scriptedIp(): { exec: Exec; events: PassThrough; answerList: (links: string[]) => void; lists: () => number } {
  const events = new PassThrough();
  const pending: ((r: RunResult) => void)[] = [];
  let lists = 0;
  let exit: (s: { code: number | null; signal: NodeJS.Signals | null }) => void = () => {};
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => (exit = resolve));
  const child: ChildHandle = {
    pid: 1,
    stdin: new PassThrough(),
    stdout: events,
    stderr: new PassThrough(),
    exited,
    kill: (signal) => exit({ code: null, signal: signal ?? 'SIGTERM' }),
  };
  const exec: Exec = {
    spawn: () => child,
    run: () => {
      lists++;
      return new Promise((resolve) => pending.push(resolve));
    },
  };
  const answerList = (links: string[]): void => {
    for (const resolve of pending.splice(0)) resolve({ code: 0, signal: null, stdout: links.join(''), stderr: '' });
  };
  return { exec, events, answerList, lists: () => lists };
}

// `ip -o link show` and `ip -o monitor link` print a link the same way.
const link = (name: string, index: number, up: boolean): string => eventLine(name, index, up);
function eventLine(name: string, index: number, up: boolean): string {
  return `${index}: ${name}@p${index}: <BROADCAST,MULTICAST${up ? ',UP,LOWER_UP' : ''}> mtu 1500 qdisc noqueue state UP group default \\    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n`;
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('IfaceMonitor: listings that overlap events (scripted ip)', () => {
  it('takes the first listing even if events came during it, lists again, and keeps newer events over an older listing', async () => {
    const ip = scriptedIp();
    const seen: IfaceMap[] = [];
    const monitor = new IfaceMonitor({
      exec: ip.exec,
      clock: realClock(),
      interfacePrefixes: ['tap'],
      debounceMs: 1,
      refreshIntervalMs: 60_000,
      onChange: (m) => seen.push(m),
    });
    monitor.start();
    await tick();
    ip.events.write(eventLine('tap1', 5, true)); // during the first listing
    await tick();
    ip.answerList([link('tap1', 5, false)]);
    await tick();
    assert.equal(monitor.inSync, true, 'the first listing is taken although events overlapped it');
    await eventually(() => ip.lists() >= 2, { timeoutMs: 2_000, what: 'another listing asked for' });
    ip.events.write(eventLine('tap1', 5, true)); // newer than the listing now running
    await tick();
    assert.equal(monitor.ifaces.get('tap1')?.up, true);
    ip.answerList([link('tap1', 5, false)]); // an older view: not taken over the event
    await tick();
    assert.equal(monitor.ifaces.get('tap1')?.up, true, 'the event is newer than the listing');
    await eventually(() => ip.lists() >= 3, { timeoutMs: 2_000, what: 'the confirming listing asked for' });
    ip.answerList([link('tap1', 5, true)]); // the confirming listing
    await tick();
    assert.equal(monitor.ifaces.get('tap1')?.up, true);
    const changes = seen.length;
    ip.events.write(eventLine('tap1', 5, true)); // nothing new
    await tick();
    assert.equal(seen.length, changes, 'an event that changes nothing is not reported');
    const stopped = monitor.stop();
    ip.answerList([link('tap1', 5, true)]); // a listing still asked for (the settle list) ends
    await stopped;
  });
});
