import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/**
 * The project root, for tests reading files of the checkout (golden files, examples): the first
 * directory with a package.json upwards from this (compiled) file.
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('No package.json above the test helpers');
    dir = up;
  }
  return dir;
}
