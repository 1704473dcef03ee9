import { parseCidr, type IpFamily } from '../../model/index.js';
import { faults } from '../errors.js';
import { present, type RuleInput, type SecurityGroupChanges, type SecurityGroupInput } from '../resources/index.js';
import { normalizeCidr } from '../ipam/index.js';
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from '../records.js';
import { defaultSgKey, objectKey } from '../store/neutron-keys.js';
import { encodeRecord } from '../store/neutron-store.js';
import { IP_PROTOCOL_MAP, isIcmpProtocol } from '../translate/index.js';
import type { CalicoSync } from './calico-sync.js';
import { notBeingDeleted, underDeletingMarker } from './deleting-marker.js';
import { timestamp, type NeutronDeps, type RequestContext, objectBase } from './neutron-deps.js';
import { AGAIN, casRetry } from './cas-retry.js';
import { casUpdate } from './cas-update.js';

export type { RuleInput, SecurityGroupInput } from '../resources/index.js';

/** A security group as the API returns it: the record with its rules embedded. */
export type SecurityGroupView = SecurityGroupRecord & { security_group_rules: SecurityGroupRuleRecord[] };

/** Rule deletes per transaction when a group goes (etcd's default limit is 128 ops). */
const RULE_DELETES_PER_TXN = 100;

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'udplite', 'dccp', '6', '17', '132', '136', '33']);

function projectOf(ctx: RequestContext, input: { tenant_id?: string | undefined; project_id?: string | undefined }): string {
  return input.project_id ?? input.tenant_id ?? ctx.projectId;
}

/** Security groups and their rules: validation as Neutron does it, storage, and the Calico policy. */
export class SecurityGroupService {
  readonly #d: NeutronDeps;
  readonly #sync: CalicoSync;

  constructor(deps: NeutronDeps, sync: CalicoSync) {
    this.#d = deps;
    this.#sync = sync;
  }

  async view(sg: SecurityGroupRecord): Promise<SecurityGroupView> {
    const rules = (await this.#d.store.list('security-group-rules')).items.filter((r) => r.security_group_id === sg.id);
    return { ...sg, security_group_rules: rules };
  }

  async list(): Promise<SecurityGroupView[]> {
    const [groups, rules] = await Promise.all([this.#d.store.list('security-groups'), this.#d.store.list('security-group-rules')]);
    const byGroup = new Map<string, SecurityGroupRuleRecord[]>();
    for (const r of rules.items) byGroup.set(r.security_group_id, [...(byGroup.get(r.security_group_id) ?? []), r]);
    return groups.items.map((g) => ({ ...g, security_group_rules: byGroup.get(g.id) ?? [] }));
  }

  async get(id: string): Promise<SecurityGroupView> {
    const sg = await this.#d.store.get('security-groups', id);
    if (sg === undefined) throw faults.notFound('SecurityGroup', id);
    return this.view(sg.record);
  }

  /**
   * The project's `default` group, created on first need (as Neutron does when a network, port
   * or other group is created): ingress from itself and egress anywhere, for IPv4 and IPv6. A
   * create-only key makes it exactly one per project however many servers race.
   */
  async ensureDefault(projectId: string): Promise<string> {
    const existing = await this.#d.store.defaultSecurityGroup(projectId);
    if (existing !== undefined) return existing;
    const now = timestamp(this.#d.clock);
    const sg: SecurityGroupRecord = {
      id: this.#d.newId(),
      name: 'default',
      tenant_id: projectId,
      project_id: projectId,
      description: 'Default security group',
      tags: [],
      created_at: now,
      updated_at: now,
      revision_number: 1,
      stateful: true,
      shared: false,
    };
    const rules: SecurityGroupRuleRecord[] = [];
    for (const ethertype of ['IPv4', 'IPv6'] as const) {
      rules.push(this.#newRule(sg, { direction: 'ingress', ethertype, remote_group_id: sg.id }, now));
      rules.push(this.#newRule(sg, { direction: 'egress', ethertype }, now));
    }
    const r = await this.#d.kv.txn({
      compare: [{ key: defaultSgKey(projectId), target: 'version', op: '==', value: 0 }],
      success: [
        { op: 'put', key: defaultSgKey(projectId), value: sg.id },
        { op: 'put', key: objectKey('security-groups', sg.id), value: encodeRecord(sg) },
        ...rules.map((rule) => ({ op: 'put' as const, key: objectKey('security-group-rules', rule.id), value: encodeRecord(rule) })),
      ],
      failure: [{ op: 'get', key: defaultSgKey(projectId) }],
    });
    if (!r.succeeded) {
      const winner = r.results[0];
      return winner?.op === 'get' && winner.kv !== undefined ? winner.kv.value : sg.id;
    }
    await this.#sync.syncSecurityGroup(sg.id);
    return sg.id;
  }

  async create(ctx: RequestContext, input: SecurityGroupInput): Promise<SecurityGroupView> {
    const project = projectOf(ctx, input);
    if (input.stateful === false) throw faults.sgNotSupported('a stateless security group');
    if (input.name === 'default') throw faults.sgDefaultExists();
    await this.ensureDefault(project);
    const now = timestamp(this.#d.clock);
    const sg: SecurityGroupRecord = {
      ...objectBase({ id: this.#d.newId(), project, description: input.description, now, revision: 1 }),
      name: input.name ?? '',
      stateful: true,
      shared: false,
    };
    const rules = (['IPv4', 'IPv6'] as const).map((ethertype) => this.#newRule(sg, { direction: 'egress', ethertype }, now));
    await this.#d.kv.txn({
      compare: [],
      success: [
        { op: 'put', key: objectKey('security-groups', sg.id), value: encodeRecord(sg) },
        ...rules.map((rule) => ({ op: 'put' as const, key: objectKey('security-group-rules', rule.id), value: encodeRecord(rule) })),
      ],
    });
    await this.#sync.syncSecurityGroup(sg.id);
    return { ...sg, security_group_rules: rules };
  }

  async update(id: string, changes: SecurityGroupChanges, ifRevision?: number): Promise<SecurityGroupView> {
    return casUpdate(this.#d, { collection: 'security-groups', id, ifRevision, resource: 'SecurityGroup', conflictName: 'Security group' }, async (cur) => {
      if (changes.name !== undefined && (cur.record.name === 'default') !== (changes.name === 'default')) {
        throw faults.sgCannotUpdateDefault();
      }
      const next: SecurityGroupRecord = {
        ...cur.record,
        ...present(changes),
        revision_number: cur.record.revision_number + 1,
        updated_at: timestamp(this.#d.clock),
      };
      const key = objectKey('security-groups', id);
      const r = await this.#d.kv.put(key, encodeRecord(next), { condition: { modRevision: cur.modRevision } });
      if (r.succeeded) {
        if (changes.name !== undefined && changes.name !== cur.record.name) await this.#sync.syncPortsWithSecurityGroup(id);
        return this.view(next);
      }
      return AGAIN;
    });
  }

  /**
   * Deletes a group under a deleting marker (ports check it when they take the group): refused
   * while a port uses it; removes its rules and other groups' rules that name it as remote group
   * (as Neutron's cascade does), in transactions small enough for etcd's op limit.
   */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    const cur = await this.#d.store.get('security-groups', id);
    if (cur === undefined) throw faults.notFound('SecurityGroup', id);
    if (cur.record.name === 'default' && !ctx.isAdmin) throw faults.sgCannotRemoveDefault();
    const touched = new Set<string>();
    await underDeletingMarker(this.#d, { kind: 'security-groups', id, modRevision: cur.modRevision }, async (finish) => {
      const users = (await this.#d.store.list('ports')).items.filter((p) => p.security_groups.includes(id));
      if (users.length > 0) throw faults.sgInUse(id);
      const rules = (await this.#d.store.list('security-group-rules')).items.filter((r) => r.security_group_id === id || r.remote_group_id === id);
      for (const r of rules) if (r.security_group_id !== id) touched.add(r.security_group_id);
      for (let i = 0; i < rules.length; i += RULE_DELETES_PER_TXN) {
        const chunk = rules.slice(i, i + RULE_DELETES_PER_TXN);
        const r = await this.#d.kv.txn({
          compare: [finish.compare],
          success: chunk.map((rule) => ({ op: 'delete' as const, key: objectKey('security-group-rules', rule.id) })),
        });
        if (!r.succeeded) throw faults.conflictRetry('Security group', id);
      }
      const isDefault = (await this.#d.store.defaultSecurityGroup(cur.record.project_id)) === id;
      const r = await this.#d.kv.txn({
        compare: [finish.compare],
        success: [
          { op: 'delete', key: objectKey('security-groups', id) },
          ...finish.ops,
          ...(isDefault ? [{ op: 'delete' as const, key: defaultSgKey(cur.record.project_id) }] : []),
        ],
      });
      if (!r.succeeded) throw faults.conflictRetry('Security group', id);
    });
    await this.#sync.syncSecurityGroup(id);
    for (const other of touched) await this.#sync.syncSecurityGroup(other);
  }

  async getRule(id: string): Promise<SecurityGroupRuleRecord> {
    const r = await this.#d.store.get('security-group-rules', id);
    if (r === undefined) throw faults.notFound('SecurityGroupRule', id);
    return r.record;
  }

  /**
   * Adds a rule as a compare-and-swap on its group (whose revision_number it bumps, as Neutron
   * does), so concurrent identical rules cannot both pass the duplicate check.
   */
  async createRule(ctx: RequestContext, input: RuleInput): Promise<SecurityGroupRuleRecord> {
    return casRetry(
      this.#d,
      () => {
        throw faults.conflictRetry('Security group', input.security_group_id);
      },
      async () => {
        const sg = await this.#d.store.get('security-groups', input.security_group_id);
        if (sg === undefined) throw faults.notFound('SecurityGroup', input.security_group_id);
        const rule = this.#validatedRule(sg.record, input, projectOf(ctx, { ...input, project_id: input.project_id ?? sg.record.project_id }));
        // As Neutron's _check_security_group: a non-admin's remote group is one of the rule's project (or shared).
        if (rule.remote_group_id !== null) {
          const remote = (await this.#d.store.get('security-groups', rule.remote_group_id))?.record;
          if (remote === undefined || (!ctx.isAdmin && remote.project_id !== rule.project_id && !remote.shared))
            throw faults.notFound('SecurityGroup', rule.remote_group_id);
        }
        const existing = (await this.#d.store.list('security-group-rules')).items.filter((r) => r.security_group_id === sg.record.id);
        const dup = existing.find((r) => sameRule(r, rule));
        if (dup !== undefined) throw faults.sgRuleExists(dup.id);
        const r = await this.#d.kv.txn({
          compare: [
            { key: objectKey('security-groups', sg.record.id), target: 'modRevision', op: '==', value: sg.modRevision },
            notBeingDeleted('security-groups', sg.record.id),
            ...(rule.remote_group_id === null ? [] : [notBeingDeleted('security-groups', rule.remote_group_id)]),
          ],
          success: [
            { op: 'put', key: objectKey('security-group-rules', rule.id), value: encodeRecord(rule) },
            { op: 'put', key: objectKey('security-groups', sg.record.id), value: encodeRecord(this.#bumped(sg.record)) },
          ],
        });
        if (r.succeeded) {
          await this.#sync.syncSecurityGroup(sg.record.id);
          return rule;
        }
        return AGAIN;
      },
    );
  }

  async deleteRule(id: string): Promise<void> {
    await casRetry(
      this.#d,
      () => {
        throw faults.conflictRetry('Security group rule', id);
      },
      async () => {
        const rule = await this.#d.store.get('security-group-rules', id);
        if (rule === undefined) throw faults.notFound('SecurityGroupRule', id);
        const sg = await this.#d.store.get('security-groups', rule.record.security_group_id);
        const r = await this.#d.kv.txn({
          compare: [
            { key: objectKey('security-group-rules', id), target: 'modRevision', op: '==', value: rule.modRevision },
            ...(sg === undefined
              ? []
              : [{ key: objectKey('security-groups', sg.record.id), target: 'modRevision' as const, op: '==' as const, value: sg.modRevision }]),
          ],
          success: [
            { op: 'delete', key: objectKey('security-group-rules', id) },
            ...(sg === undefined
              ? []
              : [{ op: 'put' as const, key: objectKey('security-groups', sg.record.id), value: encodeRecord(this.#bumped(sg.record)) }]),
          ],
        });
        if (r.succeeded) {
          await this.#sync.syncSecurityGroup(rule.record.security_group_id);
          return;
        }
        return AGAIN;
      },
    );
  }

  #bumped(sg: SecurityGroupRecord): SecurityGroupRecord {
    return { ...sg, revision_number: sg.revision_number + 1, updated_at: timestamp(this.#d.clock) };
  }

  #newRule(
    sg: SecurityGroupRecord,
    r: { direction: 'ingress' | 'egress'; ethertype: 'IPv4' | 'IPv6'; remote_group_id?: string },
    now: string,
  ): SecurityGroupRuleRecord {
    return {
      id: this.#d.newId(),
      tenant_id: sg.project_id,
      project_id: sg.project_id,
      security_group_id: sg.id,
      ethertype: r.ethertype,
      direction: r.direction,
      protocol: null,
      port_range_min: null,
      port_range_max: null,
      remote_ip_prefix: null,
      remote_address_group_id: null,
      normalized_cidr: null,
      remote_group_id: r.remote_group_id ?? null,
      description: '',
      tags: [],
      created_at: now,
      updated_at: now,
      revision_number: 0,
    };
  }

  /** Neutron's rule checks (securitygroups_db `_validate_*`), then the stored rule. */
  #validatedRule(sg: SecurityGroupRecord, input: RuleInput, project: string): SecurityGroupRuleRecord {
    if (input.remote_address_group_id !== undefined && input.remote_address_group_id !== null) throw faults.sgNotSupported('remote_address_group_id');
    const ethertype = input.ethertype ?? 'IPv4';
    const family: IpFamily = ethertype === 'IPv6' ? 6 : 4;
    let protocol = input.protocol ?? null;
    if (protocol !== null) {
      const lower = protocol.toLowerCase();
      if (/^\d+$/.test(lower)) {
        if (Number(lower) > 255) throw faults.sgInvalidProtocol(protocol);
      } else if (lower !== 'any' && !(lower in IP_PROTOCOL_MAP)) {
        throw faults.sgInvalidProtocol(protocol);
      }
      protocol = lower;
      if (family === 4 && ['ipv6-icmp', 'icmpv6', '58'].includes(lower)) throw faults.sgEthertypeProtocolConflict(ethertype, protocol);
    }
    const min = input.port_range_min ?? null;
    const max = input.port_range_max ?? null;
    if (min !== null || max !== null) {
      if (protocol === null) throw faults.sgProtocolRequiredWithPorts();
      if (isIcmpProtocol(protocol)) {
        if (min !== null && (min < 0 || min > 255)) throw faults.sgInvalidIcmpValue('type', min);
        if (max !== null && (max < 0 || max > 255)) throw faults.sgInvalidIcmpValue('code', max);
        if (min === null && max !== null) throw faults.sgMissingIcmpType(max);
      } else if (PORT_PROTOCOLS.has(protocol)) {
        // Neutron: both ends, min <= max, and neither may be 0.
        if (min === null || max === null || min > max) throw faults.sgInvalidPortRange('For TCP/UDP protocols, port_range_min must be <= port_range_max');
        if (min === 0 || max === 0) throw faults.sgInvalidPortValue(0);
      } else {
        throw faults.sgInvalidProtocolForPort(protocol);
      }
    }
    const prefix = input.remote_ip_prefix ?? null;
    const remoteGroup = input.remote_group_id ?? null;
    if (prefix !== null && remoteGroup !== null) throw faults.sgRemoteConflict();
    let normalized: string | null = null;
    if (prefix !== null) {
      const parsed = parseCidr(prefix.includes('/') ? prefix : `${prefix}/${prefix.includes(':') ? 128 : 32}`);
      if (parsed === undefined) throw faults.badRequest(`Invalid input for remote_ip_prefix. Reason: '${prefix}' is not a valid IP subnet.`);
      if (parsed.family !== family) throw faults.sgEthertypeConflict(ethertype, prefix);
      normalized = normalizeCidr(`${parsed.address}/${parsed.prefixLength}`) ?? null;
    }
    const now = timestamp(this.#d.clock);
    return {
      id: this.#d.newId(),
      tenant_id: project,
      project_id: project,
      security_group_id: sg.id,
      ethertype,
      direction: input.direction,
      protocol,
      port_range_min: min,
      port_range_max: max,
      remote_ip_prefix: prefix === null ? null : prefix.includes('/') ? prefix : `${prefix}/${family === 4 ? 32 : 128}`,
      remote_address_group_id: null,
      normalized_cidr: normalized,
      remote_group_id: remoteGroup,
      description: input.description ?? '',
      tags: [],
      created_at: now,
      updated_at: now,
      revision_number: 0,
    };
  }
}

function sameRule(a: SecurityGroupRuleRecord, b: SecurityGroupRuleRecord): boolean {
  return (
    a.direction === b.direction &&
    a.ethertype === b.ethertype &&
    a.protocol === b.protocol &&
    a.port_range_min === b.port_range_min &&
    a.port_range_max === b.port_range_max &&
    a.normalized_cidr === b.normalized_cidr &&
    a.remote_group_id === b.remote_group_id
  );
}
