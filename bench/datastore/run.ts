// The datastore benchmark: the embedded (SQLite) and etcd backends side by side on this machine.
// Measures put throughput (sequential and concurrent), watch latency across processes, and
// loading and listing 100,000 keys. Prints a table on stdout (progress on stderr) and writes
// bench/results/datastore.json. Run from the project root after building:
//   node dist/bench/datastore/run.js
import { openDatastore, type DatastoreConfig } from '../../src/datastore/index.js';
import { startTestEtcd } from '../../src/datastore/testing/index.js';
import { AbortedError, realFs } from '../../src/lib/index.js';
import { formatTable, machineInfo, writeResults, type BackendFigures } from './report.js';
import { measureList, measurePuts } from './throughput.js';
import { measureWatch } from './watch-latency.js';
import { VALUE_BYTES, progress } from './workload.js';

const PARAMS = {
  valueBytes: VALUE_BYTES,
  sequentialPuts: 2_000,
  concurrentPuts: 4_000,
  inFlight: 16,
  watchEvents: 500,
  watchIntervalMs: 5,
  listKeys: 100_000,
  txnSize: 100,
  listRuns: 3,
};

/** Every measurement against one freshly opened backend; each uses its own prefix. */
async function measureAll(config: DatastoreConfig): Promise<BackendFigures> {
  const tag = config.kind;
  const store = await openDatastore(config);
  try {
    const sequentialPuts = await measurePuts(store, tag, '/bench/seq/', PARAMS.sequentialPuts, 1);
    const concurrentPuts = await measurePuts(store, tag, '/bench/conc/', PARAMS.concurrentPuts, PARAMS.inFlight);
    const watch = await measureWatch(store, config, tag, '/bench/watch/', PARAMS.watchEvents, PARAMS.watchIntervalMs);
    const list = await measureList(store, tag, '/bench/list/', PARAMS.listKeys, PARAMS.txnSize, PARAMS.listRuns);
    return { sequentialPuts, concurrentPuts, watch, list };
  } finally {
    await store.close();
  }
}

async function embedded(): Promise<BackendFigures> {
  const fs = realFs();
  const dir = await fs.makeTempDir('brindle-bench-embedded-');
  progress('embedded', `store in ${dir} (durability: full, the default)`);
  try {
    return await measureAll({ kind: 'embedded', path: dir });
  } finally {
    await fs.remove(dir);
  }
}

async function etcd(): Promise<BackendFigures> {
  const server = await startTestEtcd();
  progress('etcd', `etcd pid ${server.pid} at ${server.endpoint}`);
  try {
    return await measureAll(server.config);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const machine = await machineInfo();
  progress('bench', `${machine.cores} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, node ${machine.node}, ${machine.etcd}`);
  const results = { embedded: await embedded(), etcd: await etcd() };
  const table = formatTable(results.embedded, results.etcd);
  process.stdout.write(`\nBrindle datastore benchmark, ${date}\n`);
  process.stdout.write(
    `${machine.cores} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, node ${machine.node}, ${machine.etcd}, data on ${machine.tmpdirFilesystem}\n\n`,
  );
  process.stdout.write(`${table}\n\n`);
  const path = await writeResults({ date, machine, parameters: PARAMS, results, table: table.split('\n') });
  process.stdout.write(`figures written to ${path}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof AbortedError) process.stderr.write('datastore benchmark stopped; nothing written\n');
  else process.stderr.write(`datastore benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
