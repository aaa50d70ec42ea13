/**
 * Built-in checks over cloud configuration changes seen in AWS CloudTrail (CC6.1/CC6.6 boundary
 * and privilege, CC7.2 detection): audit logging kept on, no administration port open to the
 * internet, no administrator rights hidden in inline policies.
 */
import { type CheckOutcome, defineCheck } from '../check.types.ts';
import type { EventView, VendorRecordView } from '../facts.ts';
import { identitySubject, resourceSubject } from './subjects.ts';

/** Settings a dedicated check judges; the generic security-setting check leaves them to it. */
export const settingsWithDedicatedChecks = new Set(['cloudtrail_logging']);

function trailName(e: EventView): string {
  const named = e.data.resources?.find((r) => r.kind === 'trail')?.name;
  // CloudTrail accepts a trail's name or its ARN (arn:aws:cloudtrail:region:account:trail/name).
  return named ? (named.split(':trail/').pop() ?? named) : '(unnamed trail)';
}

export const auditLoggingStopped = defineCheck({
  id: 'cloud.audit_logging_stopped',
  controls: ['MON-01', 'MON-09', 'MON-05'],
  title: 'Cloud audit logging stays on',
  description:
    'A CloudTrail trail was stopped (StopLogging) or deleted (DeleteTrail) and logging was not started again: ' +
    'API activity in the account goes unrecorded.',
  severity: 'critical',
  criteria: ['CC7.2', 'CC4.1'],
  triggers: { eventClasses: [6003] },
  defaults: {},
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts) {
    const events = await facts.events({ classUids: [6003] });
    const latest = new Map<string, EventView>();
    for (const e of events) {
      if (e.data.securitySetting?.name !== 'cloudtrail_logging' || e.outcome === 'failure') continue;
      latest.set(`${e.system}\u0000${trailName(e)}`, e);
    }
    return [...latest.values()].map((e): CheckOutcome => {
      const trail = trailName(e);
      const subject = resourceSubject(e.system, 'trail', trail, `CloudTrail trail ${trail} (${e.system})`);
      return e.data.securitySetting!.enabled
        ? { subject, status: 'pass', detail: `logging started ${e.time.toISOString()}` }
        : {
            subject,
            status: 'fail',
            detail: `${e.action === 'DeleteTrail' ? 'trail deleted' : 'logging stopped'} by ${e.data.actor?.userName ?? 'unknown'} at ${e.time.toISOString()}`,
            facts: { eventIds: [e.id] },
            since: e.time,
          };
    });
  },
});

interface IngressRule {
  protocol: string;
  fromPort: number | null;
  toPort: number | null;
  cidr: string;
}

const worldCidrs = new Set(['0.0.0.0/0', '::/0']);

function items(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value))
    return value.filter((v): v is Record<string, unknown> => !!v && typeof v === 'object');
  if (value && typeof value === 'object' && Array.isArray((value as { items?: unknown }).items)) {
    return items((value as { items: unknown[] }).items);
  }
  return [];
}

function port(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isInteger(n) ? n : null;
}

/** The ingress rules one Authorize/RevokeSecurityGroupIngress call names (both request shapes). */
function ingressRules(request: Record<string, unknown>): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const permission of items(request.ipPermissions)) {
    const protocol = String(permission.ipProtocol ?? '-1');
    const fromPort = port(permission.fromPort);
    const toPort = port(permission.toPort);
    for (const range of items(permission.ipRanges)) {
      if (typeof range.cidrIp === 'string') rules.push({ protocol, fromPort, toPort, cidr: range.cidrIp });
    }
    for (const range of items(permission.ipv6Ranges)) {
      if (typeof range.cidrIpv6 === 'string')
        rules.push({ protocol, fromPort, toPort, cidr: range.cidrIpv6 });
    }
  }
  // The older flat form: cidrIp, ipProtocol, fromPort, toPort on the request itself.
  if (typeof request.cidrIp === 'string') {
    rules.push({
      protocol: String(request.ipProtocol ?? '-1'),
      fromPort: port(request.fromPort),
      toPort: port(request.toPort),
      cidr: request.cidrIp,
    });
  }
  return rules;
}

function exposes(rule: IngressRule, ports: number[]): number[] {
  if (!worldCidrs.has(rule.cidr)) return [];
  if (rule.protocol === '-1' || rule.protocol.toLowerCase() === 'all') return ports;
  if (rule.protocol !== 'tcp' && rule.protocol !== '6') return [];
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  return ports.filter((p) => p >= from && p <= to);
}

function parsePorts(value: unknown): number[] {
  return String(value)
    .split(',')
    .map((p) => Number(p.trim()))
    .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
}

export const securityGroupOpenAdminPorts = defineCheck({
  id: 'cloud.security_group_open_admin_ports',
  controls: ['NET-01', 'NET-02'],
  title: 'No administration port is open to the internet',
  description:
    'A security group allows inbound traffic from anywhere (0.0.0.0/0 or ::/0) to an administration port ' +
    '(default 22 SSH and 3389 RDP; all protocols count), from AuthorizeSecurityGroupIngress not revoked since.',
  severity: 'high',
  criteria: ['CC6.6', 'CC6.1'],
  triggers: { eventClasses: [6003] },
  defaults: { adminPorts: '22,3389' },
  graceHours: 0,
  remediationDays: 2,
  async evaluate(facts, settings) {
    const ports = parsePorts(settings.adminPorts);
    const records = await facts.vendorRecords([
      'AuthorizeSecurityGroupIngress',
      'RevokeSecurityGroupIngress',
      'DeleteSecurityGroup',
    ]);
    const groups = new Map<
      string,
      { system: string; group: string; rules: Map<string, { rule: IngressRule; record: VendorRecordView }> }
    >();
    for (const r of records) {
      if (r.outcome === 'failure') continue;
      const request = (r.raw.requestParameters ?? {}) as Record<string, unknown>;
      const group = String(request.groupId ?? request.groupName ?? '');
      if (!group) continue;
      const key = `${r.system}\u0000${group}`;
      if (r.action === 'DeleteSecurityGroup') {
        groups.delete(key);
        continue;
      }
      const entry = groups.get(key) ?? { system: r.system, group, rules: new Map() };
      groups.set(key, entry);
      for (const rule of ingressRules(request)) {
        const ruleKey = `${rule.protocol}|${rule.fromPort}|${rule.toPort}|${rule.cidr}`;
        if (r.action === 'AuthorizeSecurityGroupIngress') entry.rules.set(ruleKey, { rule, record: r });
        else entry.rules.delete(ruleKey);
      }
    }
    const outcomes: CheckOutcome[] = [];
    for (const { system, group, rules } of groups.values()) {
      const subject = resourceSubject(system, 'security-group', group, `security group ${group} (${system})`);
      const open = [...rules.values()]
        .map((r) => ({ ...r, ports: exposes(r.rule, ports) }))
        .filter((r) => r.ports.length > 0);
      if (open.length === 0) {
        outcomes.push({ subject, status: 'pass', detail: `no administration port open to the internet` });
        continue;
      }
      const exposed = [...new Set(open.flatMap((o) => o.ports))].sort((a, b) => a - b);
      const first = open.map((o) => o.record).sort((a, b) => a.time.getTime() - b.time.getTime())[0]!;
      outcomes.push({
        subject,
        status: 'fail',
        detail: `port${exposed.length > 1 ? 's' : ''} ${exposed.join(', ')} open to ${[...new Set(open.map((o) => o.rule.cidr))].join(' and ')} since ${first.time.toISOString()}`,
        facts: { eventIds: open.map((o) => o.record.id), ports: exposed },
        since: first.time,
      });
    }
    return outcomes;
  },
});

const inlinePolicyActions = new Set(['PutUserPolicy', 'DeleteUserPolicy']);

export const inlineAdminPolicy = defineCheck({
  id: 'cloud.inline_admin_policy',
  controls: ['AC-06', 'AC-13'],
  title: 'IAM users hold no inline administrator policy',
  description:
    'An IAM user carries an inline policy (PutUserPolicy) that grants administrator rights — all actions, all ' +
    'IAM actions, or an admin/full-access name — outside the managed, reviewed roles and policies.',
  severity: 'high',
  criteria: ['CC6.3', 'CC6.1'],
  triggers: { eventClasses: [3005], facts: ['entitlements'] },
  defaults: {},
  graceHours: 0,
  remediationDays: 3,
  async evaluate(facts) {
    const [changes, events, identities] = await Promise.all([
      facts.entitlementChanges(),
      facts.events({ classUids: [3005] }),
      facts.identityById(),
    ]);
    const actionById = new Map(events.map((e) => [e.id, e.action]));
    const held = new Map<string, Map<string, { privileged: boolean; at: Date; eventId: number | null }>>();
    for (const c of changes) {
      if (
        c.kind !== 'policy' ||
        c.eventId === null ||
        !inlinePolicyActions.has(actionById.get(c.eventId) ?? '')
      )
        continue;
      const policies = held.get(c.identityId) ?? new Map();
      held.set(c.identityId, policies);
      if (c.granted) policies.set(c.name, { privileged: c.privileged, at: c.grantedAt, eventId: c.eventId });
      else policies.delete(c.name);
    }
    const outcomes: CheckOutcome[] = [];
    for (const [id, policies] of held) {
      const identity = identities.get(id);
      if (!identity) continue;
      const admin = [...policies].filter(([, p]) => p.privileged);
      outcomes.push(
        admin.length === 0
          ? {
              subject: identitySubject(identity),
              status: 'pass',
              detail:
                policies.size === 0
                  ? 'no inline policy held'
                  : `${policies.size} inline policies, none administrative`,
            }
          : {
              subject: identitySubject(identity),
              status: 'fail',
              detail: `inline administrator polic${admin.length > 1 ? 'ies' : 'y'} ${admin.map(([name, p]) => `${name} (put ${p.at.toISOString()})`).join(', ')}`,
              facts: { eventIds: admin.map(([, p]) => p.eventId), policies: admin.map(([name]) => name) },
              since: admin[0]![1].at,
            },
      );
    }
    return outcomes;
  },
});

export const cloudChecks = [auditLoggingStopped, securityGroupOpenAdminPorts, inlineAdminPolicy];
