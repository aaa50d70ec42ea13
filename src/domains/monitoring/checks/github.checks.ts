/**
 * Built-in checks over source-code hosting (GitHub audit log and webhooks): who can administer
 * the organisation, which repositories the world can read, and which machine credentials can
 * write to code (CC6.1/CC6.3 access to source, C1.1 confidential code, CC8.1 change integrity).
 */
import { type CheckOutcome, defineCheck, type Subject } from '../check.types.ts';
import type { VendorRecordView } from '../facts.ts';
import { organizationSubject, repositorySubject } from './subjects.ts';

function isGitHub(system: string): boolean {
  return system === 'github' || system.startsWith('github:') || system.startsWith('github-enterprise:');
}

function orgName(system: string): string {
  return system.replace(/^github(-enterprise)?:/, '');
}

/** Owner-level roles of an organisation or enterprise. */
const ownerRoles = new Set(['owner', 'enterprise owner']);

export const orgOwnerAdded = defineCheck({
  id: 'github.org_owner_added',
  controls: ['AC-06', 'AC-03'],
  title: 'New organisation owners are confirmed',
  description:
    'Someone was made an owner of a GitHub organisation (or an enterprise owner) within the look-back window ' +
    '(default 30 days) and still is. Owners can change every repository, member and security setting: confirm the ' +
    'grant with an exception, or remove it.',
  severity: 'high',
  criteria: ['CC6.3', 'CC6.2'],
  triggers: { eventClasses: [3001, 3005], facts: ['entitlements'] },
  defaults: { lookbackDays: 30 },
  graceHours: 0,
  remediationDays: 3,
  async evaluate(facts, settings) {
    const since = facts.daysAgo(Number(settings.lookbackDays));
    const [changes, events, identities] = await Promise.all([
      facts.entitlementChanges(),
      facts.events({ classUids: [3001, 3005, 3006, 990002, 3004, 6003] }),
      facts.identityById(),
    ]);
    const orgs = new Set(events.filter((e) => isGitHub(e.system)).map((e) => e.system));
    const owners = new Map<string, { system: string; at: Date; eventId: number | null }>();
    for (const c of changes) {
      if (!isGitHub(c.system) || !ownerRoles.has(c.name)) continue;
      orgs.add(c.system);
      const key = `${c.system}\u0000${c.identityId}`;
      if (c.granted) owners.set(key, { system: c.system, at: c.grantedAt, eventId: c.eventId });
      else owners.delete(key);
    }
    const outcomes: CheckOutcome[] = [];
    for (const system of orgs) {
      const subject = organizationSubject(system, orgName(system));
      const recent = [...owners]
        .filter(([, o]) => o.system === system && o.at >= since)
        .map(([key, o]) => ({ ...o, identity: identities.get(key.split('\u0000')[1]!) }));
      outcomes.push(
        recent.length === 0
          ? { subject, status: 'pass', detail: `no owner added in the last ${settings.lookbackDays} days` }
          : {
              subject,
              status: 'fail',
              detail: `new owner${recent.length > 1 ? 's' : ''} ${recent
                .map(
                  (o) =>
                    `${o.identity?.userName ?? o.identity?.externalId ?? 'unknown'} (${o.at.toISOString()})`,
                )
                .join(', ')}`,
              facts: {
                eventIds: recent.map((o) => o.eventId),
                owners: recent.map((o) => o.identity?.id ?? null),
              },
              since: recent.map((o) => o.at).sort((a, b) => a.getTime() - b.getTime())[0]!,
            },
      );
    }
    return outcomes;
  },
});

function repositoryOf(r: VendorRecordView): string | undefined {
  const raw = r.raw;
  const named = r.repository ?? r.data.repository ?? (typeof raw.repo === 'string' ? raw.repo : undefined);
  return named ?? undefined;
}

/** The visibility a repository event states, if it states one. */
function visibilityOf(r: VendorRecordView): 'public' | 'private' | 'internal' | 'gone' | undefined {
  const raw = r.raw;
  switch (r.action) {
    case 'repo.destroy':
    case 'repository.deleted':
      return 'gone';
    case 'repository.publicized':
      return 'public';
    case 'repository.privatized':
      return 'private';
  }
  const stated = typeof raw.visibility === 'string' ? raw.visibility.toLowerCase() : undefined;
  if (stated === 'public' || stated === 'private' || stated === 'internal') return stated;
  // Webhook deliveries carry the repository object.
  const repo =
    raw.repository && typeof raw.repository === 'object' ? (raw.repository as Record<string, unknown>) : null;
  if (repo) {
    const v = typeof repo.visibility === 'string' ? repo.visibility.toLowerCase() : undefined;
    if (v === 'public' || v === 'private' || v === 'internal') return v;
    if (typeof repo.private === 'boolean') return repo.private ? 'private' : 'public';
  }
  return undefined;
}

function list(value: unknown): Set<string> {
  return new Set(
    String(value)
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

export const repositoryPublic = defineCheck({
  id: 'github.repository_public',
  controls: ['DATA-07', 'AC-15'],
  title: 'Repositories are not made public unless intended',
  description:
    'A repository was created public or its visibility changed to public (audit log repo.create / repo.access ' +
    'with visibility, webhook repository publicized) and it is not in the list of repositories published on ' +
    'purpose (setting allowedPublic, comma-separated org/repo).',
  severity: 'high',
  criteria: ['CC6.1', 'C1.1'],
  triggers: { eventClasses: [6003] },
  defaults: { allowedPublic: '' },
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts, settings) {
    const allowed = list(settings.allowedPublic);
    const records = await facts.vendorRecords([
      'repo.create',
      'repo.access',
      'repo.destroy',
      'repository.created',
      'repository.publicized',
      'repository.privatized',
      'repository.deleted',
    ]);
    const latest = new Map<string, { visibility: string; record: VendorRecordView }>();
    for (const r of records) {
      const repo = repositoryOf(r);
      const visibility = visibilityOf(r);
      if (!repo || !visibility) continue;
      if (visibility === 'gone') latest.delete(repo);
      else latest.set(repo, { visibility, record: r });
    }
    const outcomes: CheckOutcome[] = [];
    for (const [repo, { visibility, record }] of latest) {
      const subject = repositorySubject(repo);
      if (visibility !== 'public') {
        outcomes.push({
          subject,
          status: 'pass',
          detail: `${visibility} since ${record.time.toISOString()}`,
        });
      } else if (allowed.has(repo.toLowerCase())) {
        outcomes.push({ subject, status: 'pass', detail: 'public on purpose (listed in allowedPublic)' });
      } else {
        outcomes.push({
          subject,
          status: 'fail',
          detail: `made public by ${record.data.actor?.userName ?? 'unknown'} at ${record.time.toISOString()} (${record.action})`,
          facts: { eventIds: [record.id] },
          since: record.time,
        });
      }
    }
    return outcomes;
  },
});

function truthy(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** Fine-grained token permissions (`{contents: "write"}`) or classic scopes (`repo`, `admin:org`). */
function writes(permissions: unknown, scopes: unknown): string[] {
  const found: string[] = [];
  if (permissions && typeof permissions === 'object' && !Array.isArray(permissions)) {
    for (const [name, level] of Object.entries(permissions as Record<string, unknown>)) {
      if (typeof level === 'string' && /write|admin/i.test(level)) found.push(`${name}:${level}`);
    }
  }
  const scopeList = Array.isArray(scopes) ? scopes : typeof scopes === 'string' ? scopes.split(/[\s,]+/) : [];
  for (const scope of scopeList) {
    if (typeof scope === 'string' && /^(repo|public_repo|delete_repo|workflow|write:|admin:)/.test(scope)) {
      found.push(scope);
    }
  }
  return found;
}

interface Credential {
  subject: Subject;
  label: string;
  record: VendorRecordView;
  write: string[];
}

export const writeCredentials = defineCheck({
  id: 'github.write_credentials',
  controls: ['AC-15', 'CHG-05'],
  title: 'Deploy keys and access tokens do not get write access to code',
  description:
    'A repository deploy key added with write access (read_only false) or a personal access token granted ' +
    'write or admin permissions on organisation resources, not removed or revoked since. Machine credentials ' +
    'that can push bypass the review path.',
  severity: 'medium',
  criteria: ['CC6.1', 'CC8.1'],
  triggers: { eventClasses: [6003, 3004] },
  defaults: {},
  graceHours: 0,
  remediationDays: 7,
  async evaluate(facts) {
    const records = await facts.vendorRecords([
      'public_key.create',
      'public_key.delete',
      'deploy_key.created',
      'deploy_key.deleted',
      'personal_access_token.access_granted',
      'personal_access_token.access_revoked',
      'personal_access_token.request_created',
    ]);
    const live = new Map<string, Credential>();
    const judged = new Map<string, Subject>();
    for (const r of records) {
      const raw = r.raw;
      if (r.action.startsWith('public_key.') || r.action.startsWith('deploy_key.')) {
        const repo = repositoryOf(r);
        // A public key without a repository is a user's own SSH key, not a deploy key.
        if (!repo) continue;
        const key = raw.key && typeof raw.key === 'object' ? (raw.key as Record<string, unknown>) : raw;
        const keyId = String(key.id ?? key.fingerprint ?? raw.fingerprint ?? key.title ?? raw.title ?? 'key');
        const id = `deploy\u0000${repo}\u0000${keyId}`;
        const subject = repositorySubject(repo);
        judged.set(repo, subject);
        if (r.action.endsWith('delete') || r.action.endsWith('deleted')) {
          live.delete(id);
        } else if (truthy(key.read_only ?? raw.read_only) === false) {
          live.set(id, {
            subject,
            label: `deploy key ${String(key.title ?? keyId)}`,
            record: r,
            write: ['write'],
          });
        }
        continue;
      }
      const org =
        r.data.organization ?? (typeof raw.org === 'string' ? raw.org : undefined) ?? orgName(r.system);
      const subject = organizationSubject(r.system, org);
      judged.set(`org:${r.system}`, subject);
      const tokenId = String(raw.token_id ?? raw.hashed_token ?? raw.user ?? 'token');
      const id = `token\u0000${r.system}\u0000${tokenId}`;
      if (r.action === 'personal_access_token.access_revoked') {
        live.delete(id);
        continue;
      }
      const write = writes(raw.permissions ?? raw.permission_added, raw.scopes);
      if (write.length > 0) {
        live.set(id, {
          subject,
          label: `personal access token of ${String(raw.user ?? r.data.actor?.userName ?? 'unknown')}`,
          record: r,
          write,
        });
      }
    }
    const outcomes: CheckOutcome[] = [];
    for (const subject of judged.values()) {
      const mine = [...live.values()].filter((c) => c.subject.id === subject.id);
      outcomes.push(
        mine.length === 0
          ? { subject, status: 'pass', detail: 'no machine credential with write access' }
          : {
              subject,
              status: 'fail',
              detail: mine
                .map((c) => `${c.label} with ${c.write.join(', ')} since ${c.record.time.toISOString()}`)
                .join('; '),
              facts: { eventIds: mine.map((c) => c.record.id) },
              since: mine.map((c) => c.record.time).sort((a, b) => a.getTime() - b.getTime())[0]!,
            },
      );
    }
    return outcomes;
  },
});

export const githubChecks = [orgOwnerAdded, repositoryPublic, writeCredentials];
