import { ownString, type StringCache } from '../../lib/index.js';
import { parseCidrOrIp, validateKind, type Labels, type WorkloadEndpoint } from '../../model/index.js';
import { NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT_LABEL, SERVICE_ACCOUNT_LABEL_PREFIX } from './parse-rule.js';

/** What the calculation keeps of every endpoint in the cluster (for IP set membership). */
export interface EndpointRecord {
  readonly labels: Labels;
  /** Canonical host CIDRs of either family. */
  readonly nets: readonly string[];
  /** The full resource, only for endpoints on this host. */
  readonly local?: WorkloadEndpoint;
}

/**
 * The labels selectors see: the endpoint's own, plus Calico's implicit ones — namespace,
 * orchestrator, the namespace's name as a `pcns.` label (for namespace selectors), and the
 * service account (for service-account selectors).
 */
function withImplicitLabels(
  labels: Readonly<Record<string, unknown>>,
  namespace: string,
  spec: { orchestrator?: unknown; serviceAccountName?: unknown },
  strings: StringCache | undefined,
): Labels {
  // Values repeat across thousands of endpoints (group ids, the project, the namespace): one copy each.
  const share = (v: string): string => strings?.get(v) ?? v;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = share(v);
  const ns = share(namespace);
  out['projectcalico.org/namespace'] = ns;
  out[`${NAMESPACE_LABEL_PREFIX}projectcalico.org/name`] = ns;
  if (typeof spec.orchestrator === 'string') out['projectcalico.org/orchestrator'] = share(spec.orchestrator);
  if (typeof spec.serviceAccountName === 'string') {
    out[SERVICE_ACCOUNT_LABEL] = share(spec.serviceAccountName);
    out[`${SERVICE_ACCOUNT_LABEL_PREFIX}projectcalico.org/name`] = share(spec.serviceAccountName);
  }
  return out;
}

function canonicalNets(nets: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const n of nets) {
    if (typeof n !== 'string') continue;
    const p = parseCidrOrIp(n);
    if (p !== undefined) out.push(ownString(`${p.network}/${p.prefixLength}`));
  }
  // A copy of exactly its length: an array grown by push keeps room for 17 (55,000 endpoints).
  return out.slice();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a WorkloadEndpoint value. Endpoints on this host are validated in full; the (many)
 * endpoints of other hosts only need labels and addresses, read with light checks so a large
 * cluster loads fast. Undefined = unusable (the caller treats it as absent and logs).
 */
export function readEndpointRecord(value: string, namespace: string, hostname: string, strings?: StringCache): EndpointRecord | undefined {
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
      labels: withImplicitLabels(wep.metadata.labels ?? {}, namespace, wep.spec, strings),
      nets: canonicalNets(wep.spec.ipNetworks ?? []),
      local: wep,
    };
  }
  const meta = isRecord(doc['metadata']) ? doc['metadata'] : {};
  const rawLabels = isRecord(meta['labels']) ? meta['labels'] : {};
  const nets = Array.isArray(spec['ipNetworks']) ? canonicalNets(spec['ipNetworks']) : [];
  return { labels: withImplicitLabels(rawLabels, namespace, spec, strings), nets };
}
