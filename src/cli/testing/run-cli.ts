import { main } from '../main.js';
import type { CliIo } from '../io.js';

/** Runs the CLI in-process with captured output (for tests). */
export async function runCli(
  argv: readonly string[],
  options: { env?: Record<string, string>; files?: Record<string, string>; stdin?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const files = options.files ?? {};
  const io: CliIo = {
    out: (t) => (out += t),
    err: (t) => (err += t),
    readFile: (p) => (p in files ? Promise.resolve(files[p] ?? '') : Promise.reject(new Error(`ENOENT: no such file ${p}`))),
    readStdin: () => Promise.resolve(options.stdin ?? ''),
    hostname: () => 'test-host',
    fileExists: (p) => p in files,
  };
  const code = await main(argv, options.env ?? {}, io);
  return { code, out, err };
}
