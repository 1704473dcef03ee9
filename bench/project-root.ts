// Shared by the benchmarks: where the project is, from dist/ or bench/.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realFs } from '../src/lib/index.js';

/** The directory holding package.json, found upwards from this file (works from dist/ or bench/). */
export function projectRoot(): string {
  const fs = realFs();
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!fs.exists(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (no package.json above the benchmark)');
    dir = up;
  }
  return dir;
}
