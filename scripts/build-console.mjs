// Builds the console's page (src/console/web) into dist/src/console/public: the Preact app
// type-checked by its own tsconfig, bundled and minified by esbuild with everything it imports
// from npm, so nothing is fetched from the internet when the page runs.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'src/console/web');
const out = join(root, 'dist/src/console/public');
execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(web, 'tsconfig.json')], { stdio: 'inherit' });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(web, 'main.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(join(web, f), join(out, f));
console.log('build: console page ok');
