import { Gauge, type Registry } from 'prom-client';
import { decodeSyncedResource, ResourceClient, Syncer, type KvStore } from '../datastore/index.js';
import { resourcePrefix, type BGPConfiguration, type BGPPeer, type CalicoNode } from '../model/index.js';
import { describeError, ReconcileLoop, type Clock, type Exec, type Fs, type Logger } from '../lib/index.js';
import { BirdDaemon, type ApplyOutcome } from './bird-daemon.js';
import type { BirdProtocol } from './parse-bird-protocols.js';
import type { BirdStatus } from './parse-bird-status.js';
import { detectBgpAddresses, type BgpAddresses } from './detect-bgp-address.js';
import { BgpNodeNotReadyError } from './errors.js';
import { nodeStatusOf, sameStatus, type SessionStatus } from './node-status.js';
import { registerNode, type NodeRegistration } from './register-node.js';
import { renderBirdConfig, type BirdSession } from './render-bird-config.js';

const KINDS = ['Node', 'BGPPeer', 'BGPConfiguration'] as const;
const COALESCE_MS = 50;

export interface BgpServiceOptions {
  readonly kv: KvStore;
  /** Bound to the host's namespace under `--netns`: BIRD and `ip` run there. */
  readonly exec: Exec;
  readonly fs: Fs;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hostname: string;
  /** BIRD's files: config, control socket, pid file, log. */
  readonly runDir: string;
  /** Given addresses (`ip[/len]`); anything missing is detected (`iface` if given, else the default route's). */
  readonly addresses: { readonly ipv4?: string; readonly ipv6?: string; readonly iface?: string };
  readonly asNumber?: number;
  readonly routeReflectorClusterID?: string;
  readonly interfacePrefixes: readonly string[];
  /** false: register the Node only (an operator runs their own BGP daemon). */
  readonly runBird: boolean;
  /** How often BIRD is checked (and restarted if it died) and sessions read; default 1 s. */
  readonly checkIntervalMs?: number;
  /** How often the CalicoNodeStatus is rewritten even when nothing changed; default 60 s. */
  readonly statusPeriodMs?: number;
  /** Metrics go here (the agent's registry, so they share /metrics). */
  readonly registry?: Registry;
  readonly birdBinary?: string;
}

/** A running BGP service. */
export interface BgpService {
  readonly bird: BirdDaemon | undefined;
  /** The sessions as last read from BIRD. */
  sessions(): readonly SessionStatus[];
  lastConfigError(): string | undefined;
  /** Stops following the datastore; BIRD keeps running (its sessions and routes stay). */
  stop(options?: { stopBird?: boolean }): Promise<void>;
}

async function resolveAddresses(o: BgpServiceOptions): Promise<BgpAddresses> {
  const given = o.addresses;
  if (given.ipv4 !== undefined && given.ipv6 !== undefined) return given;
  let found: BgpAddresses = {};
  try {
    found = await detectBgpAddresses(o.exec, given.iface);
  } catch (err) {
    if (given.ipv4 === undefined && given.ipv6 === undefined) throw err;
  }
  const ipv4 = given.ipv4 ?? found.ipv4;
  const ipv6 = given.ipv6 ?? found.ipv6;
  return { ...(ipv4 === undefined ? {} : { ipv4 }), ...(ipv6 === undefined ? {} : { ipv6 }) };
}

/**
 * BGP for one host, as calico-node's confd and BIRD do it: registers the host's Calico Node,
 * follows Nodes, BGPPeers and BGPConfigurations, renders BIRD's configuration (pure renderer)
 * and hands it to the BirdDaemon; keeps BIRD alive; reads its sessions every check interval and
 * publishes them as this host's CalicoNodeStatus and as metrics.
 */
export async function startBgpService(o: BgpServiceOptions): Promise<BgpService> {
  const log = o.logger;
  const client = new ResourceClient(o.kv, { clock: o.clock });
  const addrs = o.runBird ? await resolveAddresses(o) : await resolveAddresses(o).catch((): BgpAddresses => ({}));
  const reg: NodeRegistration = {
    hostname: o.hostname,
    ...(addrs.ipv4 === undefined ? {} : { ipv4Address: addrs.ipv4 }),
    ...(addrs.ipv6 === undefined ? {} : { ipv6Address: addrs.ipv6 }),
    ...(o.asNumber === undefined ? {} : { asNumber: o.asNumber }),
    ...(o.routeReflectorClusterID === undefined ? {} : { routeReflectorClusterID: o.routeReflectorClusterID }),
  };
  if (o.runBird) {
    await registerNode(client, reg, { logger: log, clock: o.clock });
  } else {
    // An operator's own BGP daemon: registering the Node helps it, but is no reason to stop.
    await registerNode(client, reg, { logger: log, clock: o.clock }).catch((err: unknown) =>
      log.warn({ err: describeError(err) }, 'could not register the Calico Node'),
    );
  }

  const bird = o.runBird
    ? new BirdDaemon({
        exec: o.exec,
        fs: o.fs,
        clock: o.clock,
        logger: log,
        runDir: o.runDir,
        ...(o.birdBinary === undefined ? {} : { birdBinary: o.birdBinary }),
      })
    : undefined;
  const nodes = new Map<string, CalicoNode>();
  const peers = new Map<string, BGPPeer>();
  const configs = new Map<string, BGPConfiguration>();
  let rendered: readonly BirdSession[] = [];
  let configError: string | undefined;
  let sessions: readonly SessionStatus[] = [];
  let protocols: readonly BirdProtocol[] = [];
  let birdStatus: BirdStatus | undefined;
  let published: { status: unknown; at: number } | undefined;

  const maps: Record<(typeof KINDS)[number], Map<string, unknown>> = { Node: nodes, BGPPeer: peers, BGPConfiguration: configs };

  let nodeWarned = '';
  const render = async (): Promise<void> => {
    if (bird === undefined) return;
    const mine = nodes.get(o.hostname);
    if (mine === undefined) {
      // Our Node was deleted: put it back (it is how the other hosts find us).
      await registerNode(client, reg, { logger: log, clock: o.clock });
      return;
    }
    const stored = `${mine.spec.bgp?.ipv4Address ?? '-'} ${mine.spec.bgp?.ipv6Address ?? '-'}`;
    const ours = `${reg.ipv4Address ?? '-'} ${reg.ipv6Address ?? '-'}`;
    if (stored !== ours && nodeWarned !== stored) {
      // Someone else rewrote our addresses (an operator, or a second agent with our hostname):
      // say so once and follow the Node, never fight over it.
      log.error(
        { node: o.hostname, stored, ours },
        'the Node resource names other BGP addresses than this agent found; is another host running with the same --hostname?',
      );
      nodeWarned = stored;
    }
    let out;
    try {
      out = renderBirdConfig({
        nodeName: o.hostname,
        nodes: [...nodes.values()],
        bgpConfigurations: [...configs.values()],
        peers: [...peers.values()],
        interfacePrefixes: o.interfacePrefixes,
        logFile: bird.logPath,
      });
    } catch (err) {
      if (err instanceof BgpNodeNotReadyError) {
        log.warn({ err: describeError(err) }, 'BGP configuration not rendered');
        return;
      }
      throw err;
    }
    for (const w of out.warnings) log.warn({ warning: w }, 'BGP configuration');
    const outcome: ApplyOutcome = await bird.apply(out.config);
    if (outcome.result === 'rejected') {
      if (configError !== outcome.error) log.error({ err: outcome.error }, 'BIRD rejected the new configuration; the previous one stays in force');
      configError = outcome.error;
    } else {
      if (configError !== undefined) log.info('BIRD accepted the configuration again');
      configError = undefined;
      rendered = out.sessions;
      if (outcome.result !== 'unchanged') log.info({ result: outcome.result, sessions: out.sessions.length }, 'BIRD configuration applied');
    }
  };

  const publish = async (): Promise<void> => {
    const status = nodeStatusOf({
      hostname: o.hostname,
      sessions,
      bird: bird === undefined ? undefined : { protocols, starts: bird.starts, status: birdStatus },
      configError,
      periodSeconds: Math.round((o.statusPeriodMs ?? 60_000) / 1000),
      now: o.clock.now(),
    });
    const due = published === undefined || !sameStatus(published.status, status) || o.clock.monotonic() - published.at >= (o.statusPeriodMs ?? 60_000);
    if (!due) return;
    await client.commit([{ action: 'apply', resource: status }]);
    published = { status, at: o.clock.monotonic() };
  };

  const check = async (): Promise<void> => {
    if (bird !== undefined) {
      try {
        if (await bird.ensureRunning()) metrics.restarts.inc();
        const c = await bird.connect();
        try {
          protocols = await c.showProtocols();
          birdStatus = await c.showStatus();
        } finally {
          c.close();
        }
      } catch (err) {
        protocols = [];
        birdStatus = undefined;
        log.warn({ err: describeError(err) }, 'cannot read BIRD status');
      }
      sessions = joinSessions(rendered, protocols);
    }
    await publish().catch((err: unknown) => log.warn({ err: describeError(err) }, 'cannot write the node status'));
  };

  const loop = new ReconcileLoop({
    clock: o.clock,
    logger: log,
    apply: render,
    check,
    checkIntervalMs: o.checkIntervalMs ?? 1_000,
    coalesceMs: COALESCE_MS,
    what: 'BGP configuration',
  });
  const scheduleRender = (): void => loop.schedule();

  const metrics = bgpMetrics(
    o.registry,
    () => sessions,
    () => configError,
  );
  const syncer = new Syncer({
    kv: o.kv,
    prefixes: KINDS.map((k) => resourcePrefix(k)),
    clock: o.clock,
    logger: log,
    onUpdates: (updates) => {
      for (const u of updates) {
        const kind = KINDS.find((k) => u.key.startsWith(resourcePrefix(k)));
        if (kind === undefined) continue;
        const name = u.key.slice(resourcePrefix(kind).length);
        if (u.value === undefined) {
          maps[kind].delete(name);
          continue;
        }
        try {
          maps[kind].set(name, decodeSyncedResource({ key: u.key, value: u.value, revision: u.revision }));
        } catch (err) {
          log.warn({ key: u.key, err: describeError(err) }, 'ignoring an invalid resource');
          maps[kind].delete(name);
        }
      }
      scheduleRender();
    },
    onStatus: (s) => {
      // The loop runs (and checks) only from the first in-sync; later ones change nothing.
      if (s === 'in-sync') loop.start();
    },
  });
  syncer.start();

  return {
    bird,
    sessions: () => sessions,
    lastConfigError: () => configError,
    stop: async (opts = {}) => {
      await syncer.stop();
      await loop.stop();
      if (opts.stopBird === true) await bird?.stop();
    },
  };
}

/** The rendered sessions with what BIRD says of each (a session BIRD does not know yet is Idle). */
export function joinSessions(rendered: readonly BirdSession[], protocols: readonly BirdProtocol[]): SessionStatus[] {
  const byName = new Map(protocols.map((p) => [p.name, p]));
  return rendered.map((s) => {
    const p = byName.get(s.protocol);
    return {
      ...s,
      state: p === undefined ? 'Idle' : bgpState(p),
      since: p?.since ?? '',
      info: p === undefined ? 'not configured in BIRD yet' : [p.info, p.infoDetail].filter((x) => x !== undefined && x !== '').join(' '),
      routesImported: p?.channels.find((c) => c.name === (s.family === 4 ? 'ipv4' : 'ipv6'))?.imported ?? 0,
      routesExported: p?.channels.find((c) => c.name === (s.family === 4 ? 'ipv4' : 'ipv6'))?.exported ?? 0,
    };
  });
}

const BGP_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close'] as const;
function bgpState(p: BirdProtocol): SessionStatus['state'] {
  const word = p.info.split(/\s+/)[0] ?? '';
  return (BGP_STATES as readonly string[]).includes(word) ? (word as SessionStatus['state']) : p.state === 'up' ? 'Established' : 'Idle';
}

function bgpMetrics(
  registry: Registry | undefined,
  sessions: () => readonly SessionStatus[],
  configError: () => string | undefined,
): { restarts: { inc(): void } } {
  if (registry === undefined) return { restarts: { inc: () => {} } };
  new Gauge({
    name: 'brindle_bgp_sessions',
    help: 'BGP sessions of this host by address family and state',
    labelNames: ['ip_version', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sessions()) this.inc({ ip_version: String(s.family), state: s.state });
    },
  });
  new Gauge({
    name: 'brindle_bgp_routes',
    help: 'routes imported from and exported to BGP peers, by address family',
    labelNames: ['ip_version', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sessions()) {
        this.inc({ ip_version: String(s.family), direction: 'imported' }, s.routesImported);
        this.inc({ ip_version: String(s.family), direction: 'exported' }, s.routesExported);
      }
    },
  });
  new Gauge({
    name: 'brindle_bgp_config_rejected',
    help: '1 while BIRD refuses the latest rendered configuration',
    registers: [registry],
    collect() {
      this.set(configError() === undefined ? 0 : 1);
    },
  });
  const restarts = new Gauge({ name: 'brindle_bird_restarts', help: 'times BIRD was found dead and started again', registers: [registry] });
  return { restarts: { inc: () => restarts.inc() } };
}
