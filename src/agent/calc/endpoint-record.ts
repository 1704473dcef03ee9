import { parseCidrOrIp, validateKind, type Labels, type WorkloadEndpoint } from '../../model/index.js';

/** What the calculation keeps of every endpoint in the cluster (for IP set membership). */
export interface EndpointRecord {
  readonly labels: Labels;
  /** Canonical host CIDRs of either family. */
  readonly nets: readonly string[];
  /** The full resource, only for endpoints on this host. */
  readonly local?: WorkloadEndpoint;
}

function withImplicitLabels(labels: Record<string, string>, namespace: string, orchestrator: string | undefined): Labels {
  const out: Record<string, string> = { ...labels, 'projectcalico.org/namespace': namespace };
  if (orchestrator !== undefined) out['projectcalico.org/orchestrator'] = orchestrator;
  return out;
}

function canonicalNets(nets: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const n of nets) {
    if (typeof n !== 'string') continue;
    const p = parseCidrOrIp(n);
    if (p !== undefined) out.push(`${p.network}/${p.prefixLength}`);
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a WorkloadEndpoint value. Endpoints on this host are validated in full; the (many)
 * endpoints of other hosts only need labels and addresses, read with light checks so a large
 * cluster loads fast. Undefined = unusable (the caller treats it as absent and logs).
 */
export function readEndpointRecord(value: string, namespace: string, hostname: string): EndpointRecord | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || !isRecord(doc['spec'])) return undefined;
  const spec = doc['spec'];
  if (spec['node'] === hostname) {
    let wep: WorkloadEndpoint;
    try {
      wep = validateKind('WorkloadEndpoint', doc);
    } catch {
      return undefined;
    }
    return {
      labels: withImplicitLabels(wep.metadata.labels ?? {}, namespace, wep.spec.orchestrator),
      nets: canonicalNets(wep.spec.ipNetworks ?? []),
      local: wep,
    };
  }
  const meta = isRecord(doc['metadata']) ? doc['metadata'] : {};
  const rawLabels = isRecord(meta['labels']) ? meta['labels'] : {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawLabels)) if (typeof v === 'string') labels[k] = v;
  const orchestrator = typeof spec['orchestrator'] === 'string' ? spec['orchestrator'] : undefined;
  const nets = Array.isArray(spec['ipNetworks']) ? canonicalNets(spec['ipNetworks']) : [];
  return { labels: withImplicitLabels(labels, namespace, orchestrator), nets };
}
