// A separate process that opens a datastore and does one job, so tests can prove behaviour
// across processes. Usage: node kv-child.js '<DatastoreConfig JSON>' <command> [args...]
// Prints JSON lines on stdout.
import { openDatastore, type DatastoreConfig } from '../open-datastore.js';

function out(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function main(): Promise<void> {
  const [configJson, command, ...args] = process.argv.slice(2);
  const store = await openDatastore(JSON.parse(configJson ?? '{}') as DatastoreConfig);
  switch (command) {
    case 'increment': {
      // Wins `count` compare-and-swap increments of a counter; reports the values it wrote.
      const [key = '', count = '0'] = args;
      const won: number[] = [];
      while (won.length < Number(count)) {
        const kv = await store.get(key);
        const value = Number(kv?.value ?? '0') + 1;
        const cond = kv === undefined ? { absent: true as const } : { modRevision: kv.modRevision };
        const r = await store.put(key, String(value), { condition: cond });
        if (r.succeeded) won.push(value);
      }
      out({ won });
      break;
    }
    case 'put': {
      const [key = '', value = ''] = args;
      const r = await store.put(key, value);
      out({ revision: r.revision, at: Date.now() });
      break;
    }
    case 'watch': {
      // Prints every event under a prefix from a revision until `count` have been seen.
      const [prefix = '', from = '0', count = '1'] = args;
      const watch = store.watch(prefix, { fromRevision: Number(from) });
      out({ ready: true });
      let seen = 0;
      for await (const batch of watch) {
        for (const e of batch.events) {
          out({ revision: batch.revision, type: e.type, key: e.type === 'put' ? e.kv.key : e.key, at: Date.now() });
          seen++;
        }
        if (seen >= Number(count)) break;
      }
      watch.close();
      break;
    }
    case 'write-forever': {
      // Writes prefix/0, prefix/1, ... acknowledging each commit, until killed.
      const [prefix = ''] = args;
      for (let i = 0; ; i++) {
        await store.put(`${prefix}${i}`, JSON.stringify({ i, pad: 'x'.repeat(200) }));
        out({ ack: i });
      }
    }
    case 'hold-lease': {
      // Puts a key on a lease and keeps the lease alive until killed.
      const [key = '', ttl = '2'] = args;
      const lease = await store.grantLease(Number(ttl));
      await store.put(key, 'held', { lease: lease.id });
      out({ ready: true, lease: lease.id });
      setInterval(() => void store.keepAliveLease(lease.id).catch(() => process.exit(3)), 500);
      return;
    }
    default:
      throw new Error(`unknown command ${command}`);
  }
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`kv-child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(2);
});
