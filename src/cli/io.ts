import { hostname } from 'node:os';
import { realFs } from '../lib/index.js';

/** The CLI's window on the world, injectable so commands run in-process in tests. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readFile: (path: string) => Promise<string>;
  readonly readStdin: () => Promise<string>;
  readonly hostname: () => string;
  readonly fileExists: (path: string) => boolean;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function realIo(): CliIo {
  const fs = realFs();
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    readFile: (p) => fs.readText(p),
    readStdin: readAllStdin,
    hostname: () => hostname(),
    fileExists: (p) => fs.exists(p),
  };
}
