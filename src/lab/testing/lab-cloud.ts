import { join } from 'node:path';
import { realClock, realExec, realFs } from '../../lib/index.js';
import { trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { buildDataCenter } from '../data-center.js';
import { LabCluster } from '../lab-cluster.js';
import { Lab } from '../lab-topology.js';
import type { NeutronClient } from '../neutron-client.js';
import { startResponder, type Responder } from '../probe.js';

/** A lab with its API and agents, for end-to-end tests. */
export interface LabCloud {
  readonly lab: Lab;
  readonly cluster: LabCluster;
  readonly api: NeutronClient;
  /** The datastore spec every process of the lab uses. */
  readonly datastore: string;
  /** Starts a responder (stopped by `destroy`). */
  respond(name: string, ports: { tcp?: number[]; udp?: number[] }): Promise<Responder>;
  /** Stops processes and responders, removes namespaces and temp dirs, even after failures. */
  destroy(): Promise<void>;
}

/**
 * Builds a lab with `hosts` compute hosts (`compute-1`…) and starts `brindle api` plus one
 * `brindle node` per host in `agents` (default: all), on an embedded datastore in a temp dir
 * unless `datastore` is given. Agents refresh every 2 s so drift tests stay short. Every agent
 * runs BGP (full mesh), or with `reflectors` the mesh is off and dedicated reflectors carry the
 * routes; `border` adds the border router and the outside host.
 */
export async function startLabCloud(o: {
  hosts: number;
  agents?: readonly string[];
  datastore?: string;
  nodeArgs?: readonly string[];
  logLevel?: string;
  reflectors?: number;
  border?: boolean;
  /** With `border`: write its BGPPeers (default true; false leaves peering it to the test). */
  borderPeers?: boolean;
}): Promise<LabCloud> {
  const fs = realFs();
  const exec = realExec();
  const clock = realClock();
  const dir = await fs.makeTempDir('brindle-e2e-');
  trackTempDir(dir);
  const lab = await Lab.create({ exec, fs, clock, stateDir: join(dir, 'lab'), prefix: Lab.randomPrefix() });
  const responders: Responder[] = [];
  let cluster: LabCluster | undefined;
  const datastore = o.datastore ?? `embedded:${join(dir, 'datastore')}`;
  const destroy = async (): Promise<void> => {
    for (const r of responders) await r.stop().catch(() => undefined);
    await cluster?.stop();
    await lab.destroy();
    await fs.remove(dir);
    untrackTempDir(dir);
  };
  try {
    cluster = await LabCluster.start({
      lab,
      exec,
      fs,
      clock,
      datastore,
      workDir: join(dir, 'run'),
      ...(o.logLevel === undefined ? {} : { logLevel: o.logLevel }),
      nodeArgs: o.nodeArgs ?? ['--refresh-interval', '2s', '--report-interval', '5s'],
    });
    const names = Array.from({ length: o.hosts }, (_, i) => `compute-${i + 1}`);
    await buildDataCenter(
      { lab, cluster, datastore, exec, fs, clock },
      {
        hosts: names,
        ...(o.agents === undefined ? {} : { agents: o.agents }),
        ...(o.reflectors === undefined ? {} : { reflectors: o.reflectors }),
        ...(o.border === undefined ? {} : { border: o.border }),
        ...(o.borderPeers === undefined ? {} : { borderPeers: o.borderPeers }),
      },
    );
  } catch (err) {
    await destroy();
    throw err;
  }
  const c = cluster;
  return {
    lab,
    cluster: c,
    api: c.client(),
    datastore,
    respond: async (name, ports) => {
      const r = await startResponder(lab, name, ports);
      responders.push(r);
      return r;
    },
    destroy,
  };
}
