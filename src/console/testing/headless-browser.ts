import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { realExec, realFs, type ChildHandle, type ExitStatus } from '../../lib/index.js';
import { trackChildTree } from '../../lib/testing.js';

/** Debian's Chromium (installed by scripts/install-deps.sh). */
export const CHROMIUM = '/usr/bin/chromium';

export interface HeadlessBrowser {
  readonly browser: Browser;
  readonly page: Page;
  close(): Promise<void>;
}

/** A puppeteer-launched process as the cleanup registry tracks children (killed by PID at exit). */
function asChildHandle(p: NonNullable<ReturnType<Browser['process']>>): ChildHandle {
  const exited = new Promise<ExitStatus>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve({ code: p.exitCode, signal: p.signalCode });
    else p.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: p.pid ?? -1,
    stdin: p.stdin ?? new PassThrough(),
    stdout: p.stdout ?? new PassThrough(),
    stderr: p.stderr ?? new PassThrough(),
    exited,
    kill: (signal) => void p.kill(signal),
  };
}

/**
 * Real headless Chromium inside network namespace `netns` (so it can reach only what runs
 * there, and nothing outside the machine), driven over a pipe by puppeteer-core. Its profile is
 * in `dir`. The process is killed by PID at exit even if the test fails before `close`.
 */
export async function launchHeadlessBrowser(netns: string, dir: string): Promise<HeadlessBrowser> {
  const fs = realFs();
  const wrapper = join(dir, 'chromium-in-netns');
  await fs.writeTextAtomic(wrapper, `#!/bin/sh\nexec ip netns exec ${netns} ${CHROMIUM} "$@"\n`);
  const chmod = await realExec().run('chmod', ['0755', wrapper]);
  if (chmod.code !== 0) throw new Error(`chmod ${wrapper}: ${chmod.stderr}`);
  const browser = await puppeteer.launch({
    executablePath: wrapper,
    pipe: true,
    headless: true,
    userDataDir: join(dir, 'profile'),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      '--disable-features=Translate,MediaRouter,OptimizationHints',
    ],
    defaultViewport: { width: 1280, height: 900 },
  });
  const proc = browser.process();
  if (proc !== null) trackChildTree(asChildHandle(proc));
  const page = await browser.newPage();
  return {
    browser,
    page,
    close: async () => {
      await browser.close().catch(() => proc?.kill('SIGKILL'));
    },
  };
}
