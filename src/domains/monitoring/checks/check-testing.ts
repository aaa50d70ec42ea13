/**
 * Test support for the built-in checks: one database per test file, a fresh workspace per test,
 * facts written through the real import path from small files in each vendor's own format, and
 * assertions on what a run concluded (the latest result for a subject, its live or closed
 * finding). Test support only; nothing in the product imports it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../../../../test/helpers/database.ts';
import { normalizeGitHubWebhook } from '../../../connectors/github-audit-log/github-audit-log.parser.ts';
import type { Database } from '../../../db/database.ts';
import type { Actor } from '../../audit/actor.ts';
import { updateWorkspaceIdentity } from '../../identity/identity.service.ts';
import { importFile } from '../../ingest/import.service.ts';
import { IngestWriter } from '../../ingest/ingest-writer.ts';
import { createWorkspace } from '../../workspaces/workspaces.service.ts';
import { type RunChecksSummary, runChecks } from '../run-checks.service.ts';

export const tester: Actor = { type: 'cli', id: 'check-tests' };

let sequence = 0;
function next(prefix: string): string {
  sequence += 1;
  return `${prefix}-${sequence}-${randomBytes(3).toString('hex')}`;
}

export interface SubjectResult {
  status: string;
  detail: string;
}

export interface FindingView {
  id: string;
  status: string;
  check_id: string;
  detail: string;
  subject: Record<string, unknown>;
  closed_at: Date | null;
  exception_id: string | null;
}

function names(subject: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const value of Object.values(subject)) {
    if (typeof value === 'string') out.push(value.toLowerCase());
    if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') out.push(v.toLowerCase());
  }
  return out;
}

export class CheckWorkspace {
  readonly slug: string;
  readonly id: string;
  readonly database: Database;
  lastRun: RunChecksSummary | undefined;

  constructor(database: Database, slug: string, id: string) {
    this.database = database;
    this.slug = slug;
    this.id = id;
  }

  /** Imports a vendor file (its text) through the real import path. */
  async import(kind: string, text: string, observedAt?: string) {
    return importFile(
      this.database,
      tester,
      this.slug,
      kind,
      (async function* () {
        yield Buffer.from(text, 'utf8');
      })(),
      { fileName: `${kind}-${next('file')}`, observedAt },
    );
  }

  /** Stores one GitHub webhook delivery through the ingest writer, as the webhook receiver does. */
  async deliverWebhook(eventName: string, payload: Record<string, unknown>, receivedAt: string) {
    await this.database.inWorkspace(this.id, async (trx) => {
      const writer = new IngestWriter(trx, this.id, null);
      for (const record of normalizeGitHubWebhook(eventName, payload, {
        position: { file: `${eventName}.json` },
        deliveryId: next('delivery'),
        receivedAt,
      })) {
        await writer.add(record);
      }
      await writer.finish();
    });
  }

  async run(checkIds: string | string[], asOf: string): Promise<RunChecksSummary> {
    this.lastRun = await runChecks(this.database, tester, this.slug, {
      asOf: new Date(asOf),
      checkIds: typeof checkIds === 'string' ? [checkIds] : checkIds,
      trigger: 'test',
    });
    return this.lastRun;
  }

  /** Evaluates every enabled check, built-in and custom. */
  async runAll(asOf: string): Promise<RunChecksSummary> {
    this.lastRun = await runChecks(this.database, tester, this.slug, {
      asOf: new Date(asOf),
      trigger: 'test',
    });
    return this.lastRun;
  }

  /** The latest result of `checkId` for the subject named `name` (name, email, id or alias). */
  async result(checkId: string, name: string): Promise<SubjectResult | undefined> {
    const rows = await this.database.inWorkspace(this.id, (trx) =>
      trx
        .selectFrom('check_results')
        .select(['status', 'detail', 'subject', 'run_id'])
        .where('workspace_id', '=', this.id)
        .where('check_id', '=', checkId)
        .orderBy('id', 'desc')
        .execute(),
    );
    const latestRun = rows[0]?.run_id;
    const row = rows.find(
      (r) =>
        r.run_id === latestRun && names(r.subject as Record<string, unknown>).includes(name.toLowerCase()),
    );
    return row ? { status: row.status, detail: row.detail } : undefined;
  }

  async findings(checkId: string, name: string): Promise<FindingView[]> {
    const rows = await this.database.inWorkspace(this.id, (trx) =>
      trx
        .selectFrom('findings')
        .select(['id', 'status', 'check_id', 'detail', 'subject', 'closed_at', 'exception_id'])
        .where('workspace_id', '=', this.id)
        .where('check_id', '=', checkId)
        .orderBy('opened_at')
        .execute(),
    );
    return rows.filter((r) =>
      names(r.subject as Record<string, unknown>).includes(name.toLowerCase()),
    ) as FindingView[];
  }

  /** The subject fails and has an open finding of this check. */
  async expectFails(checkId: string, name: string, detail?: RegExp): Promise<FindingView> {
    const result = await this.result(checkId, name);
    assert.equal(
      result?.status,
      'fail',
      `${checkId} on ${name}: expected fail, got ${JSON.stringify(result)}`,
    );
    if (detail) assert.match(result.detail, detail);
    const live = (await this.findings(checkId, name)).filter((f) => f.status === 'open');
    assert.equal(live.length, 1, `${checkId} on ${name}: expected one open finding`);
    return live[0]!;
  }

  /** The subject passes and has no live finding of this check. */
  async expectPasses(checkId: string, name: string, detail?: RegExp): Promise<void> {
    const result = await this.result(checkId, name);
    assert.equal(
      result?.status,
      'pass',
      `${checkId} on ${name}: expected pass, got ${JSON.stringify(result)}`,
    );
    if (detail) assert.match(result.detail, detail);
    const live = (await this.findings(checkId, name)).filter((f) => f.status !== 'closed');
    assert.equal(live.length, 0, `${checkId} on ${name}: expected no live finding`);
  }

  /** The check does not judge this subject at all (no result, no finding). */
  async expectNotJudged(checkId: string, name: string): Promise<void> {
    assert.equal(await this.result(checkId, name), undefined, `${checkId} should not judge ${name}`);
    assert.equal((await this.findings(checkId, name)).length, 0);
  }

  /** A finding of this check on the subject was open and is closed now. */
  async expectClosed(checkId: string, name: string): Promise<void> {
    const all = await this.findings(checkId, name);
    assert.ok(all.length > 0, `${checkId} on ${name}: no finding was ever opened`);
    assert.ok(
      all.every((f) => f.status === 'closed' && f.closed_at !== null),
      `${checkId} on ${name}: expected every finding closed, got ${all.map((f) => f.status).join(', ')}`,
    );
  }

  async identityId(name: string): Promise<string> {
    const rows = await this.database.inWorkspace(this.id, (trx) =>
      trx.selectFrom('identities').selectAll().where('workspace_id', '=', this.id).execute(),
    );
    const row = rows.find((r) =>
      [r.user_name, r.email, r.external_id].some((v) => v?.toLowerCase() === name.toLowerCase()),
    );
    assert.ok(row, `no account named ${name}`);
    return row.id;
  }

  /** Declares an account non-human (and optionally its owner), as a person would. */
  async declareNonHuman(name: string, owner: string | null) {
    await updateWorkspaceIdentity(this.database, tester, this.slug, await this.identityId(name), {
      nonHuman: true,
      owner,
    });
  }
}

export interface CheckBench {
  database: Database;
  workspace(): Promise<CheckWorkspace>;
  close(): Promise<void>;
}

/** One database for the calling test file (close it in an `after` hook); a fresh workspace per test. */
export async function openCheckBench(): Promise<CheckBench> {
  const cleanups: (() => Promise<void>)[] = [];
  const { database } = await createTestDatabase({ after: (fn: () => Promise<void>) => cleanups.push(fn) });
  return {
    database,
    async close() {
      for (const fn of cleanups.reverse()) await fn();
    },
    async workspace() {
      const slug = next('ws');
      const row = await createWorkspace(database, tester, { slug });
      return new CheckWorkspace(database, slug, row.id);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Vendor files, in each vendor's own format

export interface OktaPrincipal {
  id: string;
  login: string;
  name?: string;
}

export function oktaUser(login: string): OktaPrincipal {
  return { id: `00u${login.replace(/[^a-z0-9]/gi, '').slice(0, 17)}`, login };
}

const oktaAdmin = oktaUser('it.admin@acme.test');

/** One Okta System Log LogEvent. `mfa` true = a factor was presented, false = a password alone. */
export function oktaEvent(options: {
  type: string;
  at: string;
  actor?: OktaPrincipal;
  target?: OktaPrincipal;
  result?: 'SUCCESS' | 'FAILURE';
  mfa?: boolean;
  debugData?: Record<string, string>;
}): Record<string, unknown> {
  const principal = (p: OktaPrincipal) => ({
    id: p.id,
    type: 'User',
    alternateId: p.login,
    displayName: p.name ?? p.login.split('@')[0],
  });
  const actor = options.actor ?? (options.type.startsWith('user.session') ? options.target : oktaAdmin);
  const targets: Record<string, unknown>[] = [];
  if (options.target && !options.type.startsWith('user.session')) targets.push(principal(options.target));
  if (options.mfa === false)
    targets.push({ id: 'aut1', type: 'AuthenticatorEnrollment', displayName: 'Password' });
  return {
    uuid: next('okta'),
    published: options.at,
    eventType: options.type,
    actor: actor ? principal(actor) : undefined,
    target: targets,
    outcome: { result: options.result ?? 'SUCCESS' },
    authenticationContext: options.mfa === true ? { authenticationProvider: 'FACTOR_PROVIDER' } : {},
    debugContext: { debugData: options.debugData ?? {} },
    client: { ipAddress: '203.0.113.10' },
  };
}

export function oktaLog(...events: Record<string, unknown>[]): string {
  return `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
}

export const account = '111122223333';

/** One CloudTrail record. `user` 'root' acts as the account's root user. */
export function trailRecord(options: {
  name: string;
  at: string;
  user: string;
  request?: Record<string, unknown>;
  response?: Record<string, unknown> | null;
  additional?: Record<string, unknown>;
  error?: string;
  source?: string;
}): Record<string, unknown> {
  const identity =
    options.user === 'root'
      ? { type: 'Root', arn: `arn:aws:iam::${account}:root`, accountId: account, principalId: account }
      : {
          type: 'IAMUser',
          arn: `arn:aws:iam::${account}:user/${options.user}`,
          accountId: account,
          userName: options.user,
          principalId: 'AIDAEXAMPLE',
        };
  return {
    eventVersion: '1.08',
    userIdentity: identity,
    eventTime: options.at,
    eventSource: options.source ?? 'iam.amazonaws.com',
    eventName: options.name,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: options.request ?? null,
    responseElements: options.response ?? null,
    ...(options.additional ? { additionalEventData: options.additional } : {}),
    ...(options.error ? { errorCode: options.error, errorMessage: 'denied' } : {}),
    eventID: next('ct'),
    eventType: 'AwsApiCall',
    recipientAccountId: account,
  };
}

export function cloudTrail(...records: Record<string, unknown>[]): string {
  return JSON.stringify({ Records: records });
}

export interface ReportRow {
  user: string;
  created?: string;
  password?: boolean;
  passwordLastUsed?: string;
  mfa?: boolean;
  keys?: { active: boolean; rotated: string; lastUsed?: string }[];
}

const reportHeader =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,' +
  'mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,' +
  'access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,' +
  'access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

/** An AWS IAM credential report (CSV). The user `<root_account>` is the root user. */
export function credentialReport(...rows: ReportRow[]): string {
  const lines = rows.map((r) => {
    const root = r.user === '<root_account>';
    const key = (i: number) => {
      const k = r.keys?.[i];
      if (!k) return ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
      return [
        String(k.active),
        k.rotated,
        k.lastUsed ?? 'N/A',
        k.lastUsed ? 'us-east-1' : 'N/A',
        k.lastUsed ? 'iam' : 'N/A',
      ];
    };
    return [
      r.user,
      root ? `arn:aws:iam::${account}:root` : `arn:aws:iam::${account}:user/${r.user}`,
      r.created ?? '2025-01-01T00:00:00+00:00',
      root ? 'not_supported' : String(r.password ?? false),
      r.passwordLastUsed ?? (r.password ? 'no_information' : 'N/A'),
      root ? 'not_supported' : r.password ? '2025-01-01T00:00:00+00:00' : 'N/A',
      root ? 'not_supported' : 'N/A',
      String(r.mfa ?? false),
      ...key(0),
      ...key(1),
      'false',
      'N/A',
      'false',
      'N/A',
    ].join(',');
  });
  return [reportHeader, ...lines].join('\n');
}

export interface RosterRow {
  id: string;
  name: string;
  email: string;
  start?: string;
  end?: string;
  status?: 'active' | 'terminated' | 'on_leave';
}

/** Assay's HR roster CSV. */
export function roster(...rows: RosterRow[]): string {
  return [
    'employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status',
    ...rows.map((r) =>
      [
        r.id,
        r.name,
        r.email,
        'Engineer',
        'Engineering',
        'boss@acme.test',
        'full_time',
        r.start ?? '2024-01-01',
        r.end ?? '',
        r.status ?? (r.end ? 'terminated' : 'active'),
      ].join(','),
    ),
  ].join('\n');
}

/** One GitHub audit-log event (`created_at` in epoch milliseconds, as the export gives it). */
export function githubEvent(options: {
  action: string;
  at: string;
  actor: string;
  org?: string;
  repo?: string;
  [field: string]: unknown;
}): Record<string, unknown> {
  const { at, org, ...rest } = options;
  return {
    _document_id: next('gh'),
    '@timestamp': Date.parse(at),
    org: org ?? options.repo?.split('/')[0] ?? 'acme',
    ...rest,
  };
}

export function githubLog(...events: Record<string, unknown>[]): string {
  return `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
}

/** One Google Workspace Reports API activity with one event. */
export function googleActivity(options: {
  application: string;
  name: string;
  at: string;
  actor: string;
  parameters?: { name: string; value?: string; boolValue?: boolean; multiValue?: string[] }[];
}): Record<string, unknown> {
  return {
    kind: 'admin#reports#activity',
    id: {
      time: options.at,
      uniqueQualifier: next('g'),
      applicationName: options.application,
      customerId: 'C0acme',
    },
    actor: { email: options.actor, profileId: `p-${options.actor}` },
    ipAddress: '198.51.100.9',
    events: [{ type: options.application, name: options.name, parameters: options.parameters ?? [] }],
  };
}

export function googleReport(...activities: Record<string, unknown>[]): string {
  return JSON.stringify(activities);
}
