// Where the CPU went during a phase: the agent process (its own and its finished children's,
// i.e. the kernel tools it ran), this benchmark process (its own and its children's), the whole
// machine, and so how much everything else on the machine used (a shared machine disturbs
// figures; the report says how much).
import { machineBusyMs, procStat } from './agent-process.js';

export interface CpuSnapshot {
  readonly at: number;
  readonly machineMs: number;
  readonly benchMs: number;
  readonly agentSelfMs: number;
  readonly agentChildrenMs: number;
}

export interface CpuUse {
  readonly wallMs: number;
  /** The agent's Node process (JavaScript, GC, its own syscalls). */
  readonly agentNodeMs: number;
  /** The commands the agent ran and waited for (iptables-restore, ip, ipset, sysctl, …). */
  readonly agentToolsMs: number;
  readonly benchMs: number;
  readonly machineCores: number;
  /** Cores used by other processes on the machine during the phase. */
  readonly otherCores: number;
}

async function benchMs(): Promise<number> {
  const s = await procStat(process.pid);
  return s.selfMs + s.childrenMs;
}

/** A snapshot; `agentPid` undefined = no agent in this phase. `fresh`: the agent has just been spawned (counts from 0). */
export async function snapshot(agentPid: number | undefined, o: { fresh?: boolean; at?: number } = {}): Promise<CpuSnapshot> {
  const agent =
    agentPid === undefined || o.fresh === true ? { selfMs: 0, childrenMs: 0 } : await procStat(agentPid).catch(() => ({ selfMs: 0, childrenMs: 0 }));
  return {
    at: o.at ?? performance.now(),
    machineMs: await machineBusyMs(),
    benchMs: await benchMs(),
    agentSelfMs: agent.selfMs,
    agentChildrenMs: agent.childrenMs,
  };
}

export function between(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const wallMs = Math.max(1, b.at - a.at);
  const agentNodeMs = b.agentSelfMs - a.agentSelfMs;
  const agentToolsMs = b.agentChildrenMs - a.agentChildrenMs;
  const bench = b.benchMs - a.benchMs;
  const machine = b.machineMs - a.machineMs;
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  return {
    wallMs: Math.round(wallMs),
    agentNodeMs: Math.round(agentNodeMs),
    agentToolsMs: Math.round(agentToolsMs),
    benchMs: Math.round(bench),
    machineCores: r2(machine / wallMs),
    // Clock ticks are 10 ms: below a second the estimate is noise.
    otherCores: wallMs < 1_000 ? 0 : r2(Math.max(0, machine - agentNodeMs - agentToolsMs - bench) / wallMs),
  };
}
