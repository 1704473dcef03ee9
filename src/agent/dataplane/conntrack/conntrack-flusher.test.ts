import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { netnsExec, realExec, type Exec } from '../../../lib/index.js';
import { makeTestNetns, type TestNetns } from '../../../lib/testing.js';
import { ConntrackFlusher } from './conntrack-flusher.js';

describe('ConntrackFlusher (real conntrack in a namespace)', () => {
  let ns: TestNetns;
  before(async () => {
    ns = await makeTestNetns('bct');
  });
  after(async () => {
    await ns?.remove();
  });

  const flow = (dst: string, sport: number) =>
    ns.must('conntrack', [
      '-I',
      '-s',
      '198.18.5.1',
      '-d',
      dst,
      '-p',
      'tcp',
      '--sport',
      String(sport),
      '--dport',
      '80',
      '--state',
      'ESTABLISHED',
      '-t',
      '100',
      '-u',
      'ASSURED',
    ]);
  const destinations = async (): Promise<string[]> => {
    const out = await ns.must('conntrack', ['-L']);
    return [...out.matchAll(/^tcp\s.*?\bdst=(\S+)/gm)].map((m) => m[1] ?? '').sort();
  };

  it('forgets the flows towards a removed floating IP, and only those', async () => {
    await flow('198.18.224.7', 1000);
    await flow('198.18.224.7', 1001);
    await flow('198.18.224.8', 1002);
    const f = new ConntrackFlusher({ exec: netnsExec(realExec(), ns.name) });
    f.add(['198.18.224.7', '198.18.224.9']);
    await f.flush();
    assert.deepEqual(await destinations(), ['198.18.224.8']);
    assert.equal(f.pending.size, 0, 'an address without flows counts as done (conntrack exits 1: "0 flow entries")');
  });

  it('a missing conntrack binary is not retried forever', async () => {
    const missing: Exec = {
      spawn: () => {
        throw new Error('unused');
      },
      run: () => Promise.resolve({ code: 127, signal: null, stdout: '', stderr: 'conntrack: command not found\n' }),
    };
    const f = new ConntrackFlusher({ exec: missing });
    f.add(['198.18.224.7']);
    await f.flush();
    assert.equal(f.pending.size, 0);
  });

  it('a failing conntrack keeps the address for the next apply', async () => {
    const failing: Exec = {
      spawn: () => {
        throw new Error('unused');
      },
      run: () => Promise.resolve({ code: 2, signal: null, stdout: '', stderr: 'Operation failed: kernel said no\n' }),
    };
    const f = new ConntrackFlusher({ exec: failing });
    f.add(['198.18.224.7']);
    await f.flush();
    assert.deepEqual([...f.pending], ['198.18.224.7']);
  });
});
