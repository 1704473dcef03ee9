import { watch as fsWatch, mkdirSync, existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A handle on a directory watch; `close` stops it. */
export interface DirWatch {
  close(): void;
}

/** The filesystem, as a seam: the only place Brindle touches node:fs. */
export interface Fs {
  readText(path: string): Promise<string>;
  /** Writes via a temporary file and rename, so readers never see a partial file. */
  writeTextAtomic(path: string, text: string): Promise<void>;
  exists(path: string): boolean;
  ensureDirSync(path: string): void;
  ensureDir(path: string): Promise<void>;
  makeTempDir(prefix: string): Promise<string>;
  remove(path: string): Promise<void>;
  /** Calls `onChange` (coalescing is the caller's job) whenever something in `dir` changes. */
  watchDir(dir: string, onChange: () => void): DirWatch;
}

export function realFs(): Fs {
  return {
    readText: (path) => readFile(path, 'utf8'),
    writeTextAtomic: async (path, text) => {
      const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
      await writeFile(tmp, text, 'utf8');
      await rename(tmp, path);
    },
    exists: (path) => existsSync(path),
    ensureDirSync: (path) => {
      mkdirSync(path, { recursive: true });
    },
    ensureDir: async (path) => {
      await mkdir(path, { recursive: true });
    },
    makeTempDir: (prefix) => mkdtemp(join(tmpdir(), prefix)),
    remove: (path) => rm(path, { recursive: true, force: true }),
    watchDir: (dir, onChange) => {
      const w = fsWatch(dir, { persistent: false }, () => onChange());
      w.on('error', () => {});
      return { close: () => w.close() };
    },
  };
}
