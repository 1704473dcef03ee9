// The watching side of the watch-latency benchmark, run as its own process.
// Usage: node watch-child.js '<DatastoreConfig JSON>' <prefix> <count>
// Prints JSON lines on stdout:
//   {"watching":true,"fromRevision":R}  the watch is open from revision R;
//   {"ready":true}                       it has delivered <prefix>ready, written by another process;
//   {"key":K,"at":MS}                    per later event: the key and Date.now() when it arrived;
// and exits after `count` such events.
import { openDatastore, type DatastoreConfig } from '../../src/datastore/index.js';

function out(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function main(): Promise<void> {
  const [configJson = '{}', prefix = '', count = '0'] = process.argv.slice(2);
  const store = await openDatastore(JSON.parse(configJson) as DatastoreConfig);
  try {
    const fromRevision = (await store.revision()) + 1;
    const watch = store.watch(prefix, { fromRevision });
    out({ watching: true, fromRevision });
    const probe = `${prefix}ready`;
    let ready = false;
    let seen = 0;
    for await (const batch of watch) {
      const at = Date.now();
      for (const e of batch.events) {
        const key = e.type === 'put' ? e.kv.key : e.key;
        if (!ready) {
          if (key === probe) {
            ready = true;
            out({ ready: true });
          }
          continue;
        }
        out({ key, at });
        seen++;
      }
      if (seen >= Number(count)) break;
    }
    watch.close();
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`watch-child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(2);
});
