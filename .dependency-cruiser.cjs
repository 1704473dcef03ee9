// The import rules of docs/CONVENTIONS.md, checked in `make test`.
const MODULES = '(lib|model|datastore|neutron|agent|bgp|dhcp|metadata|lab|cli|web|deploy|console)';
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'lib-imports-nothing-of-ours',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: `^src/${MODULES}/`, pathNot: '^src/lib/' },
    },
    {
      name: 'model-imports-only-lib',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: '^src/(model|lib)/' },
    },
    {
      name: 'datastore-imports-only-model-and-lib',
      severity: 'error',
      from: { path: '^src/datastore/' },
      to: { path: '^src/', pathNot: '^src/(datastore|model|lib)/' },
    },
    {
      name: 'modules-never-import-each-other-beyond-core',
      comment:
        'neutron, agent, bgp, dhcp, lab and web stand on lib/model/datastore only; cli (the top) may start any of them; console shows what the others write (neutron, agent through their front doors) and nothing imports it but cli',
      severity: 'error',
      from: { path: '^src/(neutron|agent|bgp|dhcp|metadata|lab|web)/' },
      to: { path: '^src/(neutron|agent|bgp|dhcp|metadata|lab|cli|web|console)/', pathNot: '^src/$1/' },
    },
    {
      name: 'only-through-the-front-door',
      comment: "another module's code is reached through its index.ts (tests may also use testing/index.ts)",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/([^/]+)/',
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/[^/]+/testing/index\\.ts$', '^src/lib/testing\\.ts$'],
      },
    },
    {
      name: 'bench-through-the-front-door',
      comment: "benchmarks reach Brindle's code as any other module does: through a module's index.ts (or testing/index.ts, lib/testing.ts)",
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^src/', pathNot: ['^src/[^/]+/index\\.ts$', '^src/[^/]+/testing/index\\.ts$', '^src/lib/testing\\.ts$'] },
    },
    {
      name: 'testing-helpers-only-in-tests',
      severity: 'error',
      from: { path: '^src/', pathNot: ['\\.test\\.ts$', '/testing/', '^src/lib/testing\\.ts$', '^src/datastore/kv-contract\\.ts$'] },
      to: { path: ['/testing/', '^src/lib/testing\\.ts$'] },
    },
    {
      name: 'only-datastore-etcd-imports-etcd3',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/datastore/etcd/' },
      to: { path: 'node_modules/etcd3/' },
    },
    {
      name: 'only-the-embedded-store-imports-sqlite',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/datastore/embedded/' },
      to: { path: 'node_modules/better-sqlite3/' },
    },
    {
      name: 'only-shims-touch-fs-and-processes',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/lib/shims/' },
      to: { dependencyTypes: ['core'], path: '^(fs|fs/promises|child_process)$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
