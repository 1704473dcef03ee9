import { createHash } from 'node:crypto';
import { felixHostPrefix, felixHostStatusSchema, parseFelixStatusKey } from '../../model/index.js';
import { faults } from '../errors.js';
import type { NeutronDeps } from './neutron-deps.js';

/** A row of `GET /v2.0/agents`: one per host whose Calico agent reports status. */
export interface AgentRecord {
  readonly id: string;
  readonly agent_type: 'Calico per-host agent (felix)';
  readonly binary: 'calico-felix';
  readonly topic: 'N/A';
  readonly host: string;
  readonly admin_state_up: true;
  readonly alive: boolean;
  readonly created_at: string;
  readonly started_at: string;
  readonly heartbeat_timestamp: string;
  readonly availability_zone: null;
  readonly configurations: Record<string, unknown>;
  readonly description: null;
  readonly resources_synced: null;
}

/** A stable UUID-shaped id per host, so agent ids survive restarts of everything. */
export function agentId(host: string): string {
  const h = createHash('sha1').update(`calico-felix:${host}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function neutronTime(iso: string): string {
  return iso
    .replace('T', ' ')
    .replace(/(\.\d+)?Z$/, '')
    .replace(/([+-]\d\d:\d\d)$/, '');
}

/**
 * Agents, from the Felix status keys: a host's key lives on a lease its agent keeps alive, so
 * a present key is a live agent (networking-calico feeds Neutron's agents table from the same
 * keys). Hosts whose key has expired are not listed.
 */
export class AgentService {
  readonly #d: NeutronDeps;

  constructor(deps: NeutronDeps) {
    this.#d = deps;
  }

  async list(): Promise<AgentRecord[]> {
    const { items } = await this.#d.kv.list(felixHostPrefix(this.#d.regionString));
    const out: AgentRecord[] = [];
    for (const kv of items) {
      const parsed = parseFelixStatusKey(this.#d.regionString, kv.key);
      if (parsed?.type !== 'host') continue;
      let time: string;
      let uptime: number;
      try {
        const status = felixHostStatusSchema.parse(JSON.parse(kv.value));
        time = status.time;
        uptime = status.uptime;
      } catch {
        continue; // a corrupt status is treated as no status
      }
      const heartbeat = neutronTime(time);
      const started = neutronTime(new Date(Date.parse(time) - uptime * 1000).toISOString());
      out.push({
        id: agentId(parsed.host),
        agent_type: 'Calico per-host agent (felix)',
        binary: 'calico-felix',
        topic: 'N/A',
        host: parsed.host,
        admin_state_up: true,
        alive: true,
        created_at: started,
        started_at: started,
        heartbeat_timestamp: heartbeat,
        availability_zone: null,
        configurations: {},
        description: null,
        resources_synced: null,
      });
    }
    return out;
  }

  async get(id: string): Promise<AgentRecord> {
    const agent = (await this.list()).find((a) => a.id === id);
    if (agent === undefined) throw faults.notFound('Agent', id);
    return agent;
  }
}
