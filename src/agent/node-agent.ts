import { Syncer, type KvStore, type SyncStatus } from '../datastore/index.js';
import { regionString, resourcePrefix } from '../model/index.js';
import { describeError, silentLogger, type Clock, type Exec, type Logger, type Timer } from '../lib/index.js';
import { AgentLoop } from './agent-loop.js';
import { CalcGraph } from './calc/calc-graph.js';
import { DEFAULT_DATAPLANE_CONFIG, type DataplaneConfig } from './config.js';
import { Dataplane } from './dataplane/dataplane.js';
import { IfaceMonitor } from './dataplane/ifaces/iface-monitor.js';
import { detectIptablesBackend, type IptablesBackend } from './dataplane/iptables/iptables-backend.js';
import type { DataplaneKind } from './dataplane/rules-backend.js';
import { dataplaneConfigFrom, intervalsFrom, type AgentIntervals } from './felix-config.js';
import { AgentMetrics } from './health/agent-metrics.js';
import { startHealthServer, type HealthServer } from './health/health-server.js';
import { StatusReporter } from './status/status-reporter.js';

const WATCHED_KINDS = ['WorkloadEndpoint', 'HostEndpoint', 'NetworkPolicy', 'GlobalNetworkPolicy', 'Profile', 'FelixConfiguration', 'IPPool'] as const;
/** Liveness fails when the main loop has made no progress for this long (DataplaneWatchdogTimeout). */
const WATCHDOG_MS = 90_000;

export interface NodeAgentOptions {
  readonly kv: KvStore;
  /** Runs kernel commands (already bound to a namespace when the agent serves a lab host). */
  readonly exec: Exec;
  readonly clock: Clock;
  readonly hostname: string;
  readonly region?: string;
  readonly logger?: Logger;
  /** Where rules and IP sets go (default `iptables`; the CLI's default is `nft`). */
  readonly dataplane?: DataplaneKind;
  readonly iptablesBackend?: 'auto' | IptablesBackend;
  /** Overrides of FelixConfiguration (command line, tests). */
  readonly configOverrides?: Partial<DataplaneConfig>;
  readonly intervalOverrides?: Partial<AgentIntervals>;
  /** Serve /liveness, /readiness and /metrics here. */
  readonly health?: { readonly host: string; readonly port: number };
}

/** A running agent. */
export interface NodeAgent {
  readonly healthUrl: string | undefined;
  readonly metrics: AgentMetrics;
  /** Resolves once the dataplane has been programmed after the first in-sync. */
  readonly firstApply: Promise<void>;
  status(): { sync: SyncStatus; ready: boolean; applies: number; failures: number };
  /** Stops the loop, the syncer and the servers; the dataplane stays as it is (fail closed). */
  stop(): Promise<void>;
}

/**
 * `brindle node`: the per-host agent (Felix). Follows the datastore with a Syncer, feeds the
 * calculation graph, and once in sync programs the dataplane — coalescing bursts into one apply,
 * retrying failures with backoff after a full read-back, and re-reading the kernel every refresh
 * interval so drift is repaired. Nothing touches the kernel before the first in-sync; a restart
 * converges with the minimal difference, so existing connections keep flowing.
 */
export async function startNodeAgent(o: NodeAgentOptions): Promise<NodeAgent> {
  const log = o.logger ?? silentLogger();
  const { clock } = o;
  const regionStr = regionString(o.region);
  const calc = new CalcGraph({ hostname: o.hostname, logger: log });
  const reporter = new StatusReporter({
    kv: o.kv,
    clock,
    hostname: o.hostname,
    regionStr,
    logger: log,
    ...(o.intervalOverrides?.reportTtlSeconds === undefined ? {} : { ttlSeconds: o.intervalOverrides.reportTtlSeconds }),
  });
  const backend = await detectIptablesBackend(o.exec, o.iptablesBackend ?? 'auto');
  const kind: DataplaneKind = o.dataplane ?? 'iptables';
  let stopped = false;
  let firstApplyDone: () => void = () => {};
  const firstApply = new Promise<void>((resolve) => (firstApplyDone = resolve));
  const timers = new Map<string, Timer>();
  const later = (name: string, fn: () => void, ms: number): void => {
    timers.get(name)?.cancel();
    if (stopped) return;
    timers.set(name, clock.setTimer(fn, ms));
  };

  const metrics = new AgentMetrics({
    tables: () => (loop.dataplane?.tables ?? []).map((t) => ({ table: t.table, family: t.family, stats: t.stats })),
    calc: () => calc.stats,
    inSync: () => loop.sync === 'in-sync',
    applyFailures: () => loop.counts.failures,
  });

  const syncer = new Syncer({
    kv: o.kv,
    prefixes: WATCHED_KINDS.map((k) => resourcePrefix(k)),
    logger: log,
    clock,
    onUpdates: (updates) => {
      calc.onUpdates(updates);
      loop.schedule();
    },
    onStatus: (s) => {
      log.info({ status: s }, 'Datastore sync status');
      loop.setSyncStatus(s);
    },
  });

  let monitor: IfaceMonitor | undefined;
  let intervals: AgentIntervals = { refreshMs: 90_000, reportMs: 30_000, reportTtlSeconds: 90, ...o.intervalOverrides };

  /** FelixConfiguration as read at the first in-sync; an unusable one is reported and replaced by the defaults. */
  const readConfig = (): DataplaneConfig => {
    const spec = calc.felixConfig();
    calc.takeConfigChanged();
    let config: DataplaneConfig;
    try {
      config = dataplaneConfigFrom(spec);
      intervals = { ...intervalsFrom(spec), ...o.intervalOverrides };
    } catch (err) {
      log.error({ err: describeError(err) }, 'FelixConfiguration is not usable; running with the defaults');
      config = DEFAULT_DATAPLANE_CONFIG;
      intervals = { refreshMs: 90_000, reportMs: 30_000, reportTtlSeconds: 90, ...o.intervalOverrides };
    }
    return { ...config, ...o.configOverrides };
  };

  const startDataplane = (): Dataplane => {
    const config = readConfig();
    log.info(
      {
        dataplane: kind,
        backend,
        interfacePrefixes: config.interfacePrefixes,
        endpointToHostAction: config.endpointToHostAction,
        refreshMs: intervals.refreshMs,
      },
      'Dataplane starting',
    );
    const dp = new Dataplane({ exec: o.exec, config, dataplane: kind, backend, logger: log, clock });
    // The interface monitor watches the prefixes the configuration names (read only at in-sync).
    monitor = new IfaceMonitor({
      exec: o.exec,
      clock,
      logger: log,
      interfacePrefixes: config.interfacePrefixes,
      // The monitor hands a new map on each change, and the names to look at.
      onChange: (m, changed) => loop.setIfaces(m, changed),
    });
    monitor.start();
    // 0 turns a periodic job off (as in Felix); anything else runs at most once a second.
    const every = (ms: number): number | undefined => (ms <= 0 ? undefined : Math.max(ms, 1_000));
    const refreshMs = every(intervals.refreshMs);
    const refresh = (): void => {
      dp.markForResync();
      loop.schedule();
      if (refreshMs !== undefined) later('refresh', refresh, refreshMs);
    };
    if (refreshMs !== undefined) later('refresh', refresh, refreshMs);
    else log.warn('iptablesRefreshInterval is 0: drift is not repaired periodically');
    reporter.ttlSeconds = intervals.reportTtlSeconds;
    const reportMs = every(intervals.reportMs);
    const report = async (): Promise<void> => {
      await reporter.reportHost().catch((err: unknown) => log.warn({ err: describeError(err) }, 'Host status report failed'));
      if (reportMs !== undefined) later('report', () => void report(), reportMs);
    };
    if (reportMs === undefined) log.warn('reportingInterval is 0: the host status is written once (Neutron will see the agent go after its TTL)');
    void report();
    return dp;
  };

  // Endpoint status goes out beside the loop, one report at a time, so a slow or absent
  // datastore never holds up programming the dataplane; the latest state always wins.
  let statusRunning: Promise<void> | undefined;
  let statusAgain = false;
  let fullStatusDone = false;
  const publishStatus = (dp: Dataplane): void => {
    if (statusRunning !== undefined) {
      statusAgain = true;
      return;
    }
    statusRunning = (async () => {
      do {
        statusAgain = false;
        // The first report is whole (keys of endpoints that went while the agent was down are
        // deleted); after it, only what changed.
        const changes = dp.takeStatusChanges().map(({ ids, status }) => ({ ...ids, status }));
        const ok = fullStatusDone
          ? await reporter.reportEndpointChanges(changes).catch(() => false)
          : await reporter.reportEndpoints(dp.endpointStatuses().map(({ ep, status }) => ({ ...ep.statusIds, status }))).catch(() => false);
        if (ok) fullStatusDone = true;
        else if (!stopped) later('status-retry', () => loop.schedule(), 1_000);
      } while (statusAgain && !stopped);
      statusRunning = undefined;
    })();
  };

  const loop = new AgentLoop({
    clock,
    calc,
    logger: log,
    startDataplane,
    onApplied: (dp, t, { first, ms }) => {
      metrics.applyTime.observe(t.totalMs / 1000);
      if (first) {
        log.info({ ms: Math.round(ms), lines: t.iptablesLines }, 'Dataplane programmed after start');
        firstApplyDone();
      }
      publishStatus(dp);
    },
  });

  // The health server first: if its port is taken, nothing else has started yet.
  let health: HealthServer | undefined;
  if (o.health !== undefined) {
    health = await startHealthServer({
      host: o.health.host,
      port: o.health.port,
      registry: metrics.registry,
      health: {
        live: () => clock.monotonic() - loop.lastProgress < WATCHDOG_MS,
        ready: () => loop.ready,
        detail: () => ({ sync: loop.sync, state: loop.state, applies: loop.counts.applies, failures: loop.counts.failures, dataplane: kind, backend }),
      },
    });
  }

  syncer.start();
  loop.start();

  return {
    healthUrl: health?.url,
    metrics,
    firstApply,
    status: () => ({ sync: loop.sync, ready: loop.ready, applies: loop.counts.applies, failures: loop.counts.failures }),
    stop: async () => {
      stopped = true;
      for (const t of timers.values()) t.cancel();
      await loop.stop();
      await statusRunning;
      await monitor?.stop();
      await syncer.stop();
      await health?.close();
      await reporter.withdraw().catch(() => {});
    },
  };
}
