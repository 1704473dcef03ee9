import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the metrics read at scrape time. */
export interface MetricsSource {
  tables(): readonly {
    table: string;
    family: number;
    stats: { restoreCalls: number; restoreErrors: number; saveCalls: number; linesExecuted: number; chains: number; rules: number };
  }[];
  calc(): { endpoints: number; localEndpoints: number; activeRules: number; ipSets: number; policies: number };
  inSync(): boolean;
  applyFailures(): number;
}

/**
 * Prometheus metrics under Felix's names where the meaning is the same (so existing dashboards
 * work): iptables calls and sizes per table, active local endpoints/policies/sets, cluster size,
 * resync state, and the apply-time histogram.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly applyTime: Histogram;

  constructor(source: MetricsSource) {
    const r = this.registry;
    // process_* and nodejs_* (resident memory, V8 heap, memory outside it, event loop lag), as
    // Felix exposes go_* and process_*: where the agent's memory goes, read without a debugger.
    collectDefaultMetrics({ register: r });
    const perTable = (name: string, help: string, pick: (s: ReturnType<MetricsSource['tables']>[number]['stats']) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['table', 'ip_version'],
        registers: [r],
        collect() {
          for (const t of source.tables()) this.set({ table: t.table, ip_version: String(t.family) }, pick(t.stats));
        },
      });
    };
    perTable('felix_iptables_restore_calls', 'iptables-restore runs', (s) => s.restoreCalls);
    perTable('felix_iptables_restore_errors', 'iptables-restore failures', (s) => s.restoreErrors);
    perTable('felix_iptables_save_calls', 'iptables-save runs', (s) => s.saveCalls);
    perTable('felix_iptables_lines_executed', 'iptables-restore lines written', (s) => s.linesExecuted);
    perTable('felix_iptables_chains', 'chains programmed', (s) => s.chains);
    perTable('felix_iptables_rules', 'rules programmed', (s) => s.rules);
    const calcGauge = (name: string, help: string, pick: (c: ReturnType<MetricsSource['calc']>) => number): void => {
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(pick(source.calc()));
        },
      });
    };
    calcGauge('felix_active_local_endpoints', 'workload endpoints on this host', (c) => c.localEndpoints);
    calcGauge('felix_active_local_policies', 'policies and profiles applying to local endpoints', (c) => c.activeRules);
    calcGauge('felix_active_local_selectors', 'IP sets in use for rule selectors', (c) => c.ipSets);
    calcGauge('felix_cluster_num_workload_endpoints', 'workload endpoints in the cluster', (c) => c.endpoints);
    calcGauge('felix_cluster_num_policies', 'policies in the cluster', (c) => c.policies);
    new Gauge({
      name: 'felix_resync_state',
      help: '1 when in sync with the datastore',
      registers: [r],
      collect() {
        this.set(source.inSync() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'felix_int_dataplane_failures',
      help: 'dataplane applies that failed',
      registers: [r],
      collect() {
        this.set(source.applyFailures());
      },
    });
    this.applyTime = new Histogram({
      name: 'felix_int_dataplane_apply_time_seconds',
      help: 'time to apply one batch of changes to the dataplane',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
  }
}
