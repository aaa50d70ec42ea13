/**
 * Exceptions end to end over real facts: an approved exception suppresses its finding (and
 * cancels the owner's task), is recorded in the evidence ledger, and expires loudly — the next
 * evaluation reopens the finding with a new task and records exception.expired once. Revocation
 * reopens at once. Bad requests (self-approval, past or far expiry, unknown check) are refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isAssayError } from '../../errors.ts';
import {
  type CheckBench,
  type CheckWorkspace,
  credentialReport,
  openCheckBench,
  tester,
} from '../monitoring/checks/check-testing.ts';
import { createException, listExceptions, revokeException } from './exceptions.service.ts';

let bench: CheckBench;
before(async () => {
  bench = await openCheckBench();
});
after(() => bench.close());

const check = 'identity.mfa_enabled';
const at = (iso: string) => new Date(iso);

/** Alice and Bob can sign in with a password and have no MFA: two open findings. */
async function failingWorkspace(): Promise<CheckWorkspace> {
  const ws = await bench.workspace();
  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', password: true, mfa: false },
      { user: 'bob@acme.test', password: true, mfa: false },
    ),
    '2026-10-01T00:00:00Z',
  );
  await ws.run(check, '2026-10-01T01:00:00Z');
  await ws.expectFails(check, 'alice@acme.test');
  return ws;
}

async function rows<T>(ws: CheckWorkspace, table: 'tasks' | 'audit_trail' | 'evidence_items'): Promise<T[]> {
  return ws.database.inWorkspace(ws.id, (trx) =>
    trx.selectFrom(table).selectAll().where('workspace_id', '=', ws.id).execute(),
  ) as Promise<T[]>;
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(
    promise,
    (error) => isAssayError(error) && error.code === code && message.test(error.message),
  );
}

test('an exception suppresses the finding, cancels its task and is recorded as evidence', async () => {
  const ws = await failingWorkspace();
  const finding = await ws.expectFails(check, 'alice@acme.test');
  const created = await createException(
    ws.database,
    { type: 'user', id: 'u-1', name: 'sam@acme.test' },
    ws.slug,
    {
      finding: finding.id,
      justification: 'Alice is on a break-glass rota; MFA hardware arrives next week',
      approver: 'ciso@acme.test',
      expiresAt: '2026-10-15T00:00:00Z',
    },
    { now: at('2026-10-01T02:00:00Z') },
  );
  assert.equal(created.exception.created_by, 'sam@acme.test');
  assert.equal(created.finding?.status, 'suppressed');
  assert.equal(created.finding?.exception_id, created.exception.id);

  const evidence = await rows<{ id: string; kind: string; subject_id: string; stale_after: Date }>(
    ws,
    'evidence_items',
  );
  const approval = evidence.find((e) => e.kind === 'exception.approved');
  assert.ok(approval, 'the approval is ledger evidence');
  assert.equal(approval.id, created.exception.evidence_id);
  assert.equal(approval.stale_after.toISOString(), '2026-10-15T00:00:00.000Z');
  assert.ok(created.finding?.evidence_ids.includes(approval.id));

  const tasks = await rows<{ finding_id: string; status: string }>(ws, 'tasks');
  assert.deepEqual(
    tasks.filter((t) => t.finding_id === finding.id).map((t) => t.status),
    ['cancelled'],
  );
  // Bob's finding is untouched.
  assert.equal((await ws.findings(check, 'bob@acme.test'))[0]?.status, 'open');

  // While the exception holds, evaluations keep the finding suppressed and open no task.
  const during = await ws.run(check, '2026-10-10T00:00:00Z');
  assert.equal((await ws.findings(check, 'alice@acme.test'))[0]?.status, 'suppressed');
  assert.equal(during.findingsOpen, 1, "only Bob's finding counts as open");
  assert.equal(
    (await rows<{ finding_id: string; status: string }>(ws, 'tasks')).filter(
      (t) => t.finding_id === finding.id && t.status === 'open',
    ).length,
    0,
  );
});

test('an exception expires loudly: the next evaluation reopens the finding, gives a task and records exception.expired once', async () => {
  const ws = await failingWorkspace();
  const finding = await ws.expectFails(check, 'alice@acme.test');
  const { exception } = await createException(
    ws.database,
    tester,
    ws.slug,
    {
      finding: finding.id,
      justification: 'Accepted until the new device arrives',
      approver: 'ciso@acme.test',
      expiresAt: '2026-10-15T00:00:00Z',
      requestedBy: 'sam@acme.test',
    },
    { now: at('2026-10-01T02:00:00Z') },
  );
  await ws.run(check, '2026-10-16T00:00:00Z');
  const reopened = await ws.expectFails(check, 'alice@acme.test');
  assert.equal(reopened.id, finding.id, 'the same finding reopens');
  assert.equal(reopened.exception_id, null);
  const tasks = await rows<{ finding_id: string; status: string; title: string }>(ws, 'tasks');
  const open = tasks.filter((t) => t.finding_id === finding.id && t.status === 'open');
  assert.equal(open.length, 1);
  assert.match(open[0]!.title, /exception expired/);

  const expiredEntries = async () =>
    (await rows<{ action: string; target_id: string }>(ws, 'audit_trail')).filter(
      (e) => e.action === 'exception.expired' && e.target_id === exception.id,
    );
  assert.equal((await expiredEntries()).length, 1);
  assert.ok((await rows<{ kind: string }>(ws, 'evidence_items')).some((e) => e.kind === 'exception.expired'));
  const [listed] = await listExceptions(
    ws.database,
    ws.slug,
    { status: 'expired' },
    { now: at('2026-10-16T00:00:00Z') },
  );
  assert.equal(listed?.row.id, exception.id);
  assert.ok(listed?.row.expiry_notified_at);

  // Announced once: a later run says nothing more.
  await ws.run(check, '2026-10-17T00:00:00Z');
  assert.equal((await expiredEntries()).length, 1);
});

test('an exception recorded before the failure suppresses the new finding from the start', async () => {
  const ws = await bench.workspace();
  await ws.import(
    'aws-iam-credential-report',
    credentialReport({ user: 'carol@acme.test', password: true, mfa: true }),
    '2026-10-01T00:00:00Z',
  );
  await ws.run(check, '2026-10-01T00:00:00Z');
  const subject = `identity:${await ws.identityId('carol@acme.test')}`;
  await createException(
    ws.database,
    tester,
    ws.slug,
    {
      checkId: check,
      subject,
      justification: 'Planned device swap this week',
      approver: 'ciso@acme.test',
      expiresAt: '2026-10-20T00:00:00Z',
      requestedBy: 'sam@acme.test',
    },
    { now: at('2026-10-01T12:00:00Z') },
  );
  await ws.import(
    'aws-iam-credential-report',
    credentialReport({ user: 'carol@acme.test', password: true, mfa: false }),
    '2026-10-02T00:00:00Z',
  );
  const run = await ws.run(check, '2026-10-02T00:00:00Z');
  const [finding] = await ws.findings(check, 'carol@acme.test');
  assert.equal(finding?.status, 'suppressed');
  assert.equal(run.findingsOpen, 0);
  assert.equal(
    (await rows<{ finding_id: string }>(ws, 'tasks')).filter((t) => t.finding_id === finding?.id).length,
    0,
  );
});

test('revoking an exception reopens its finding at once; revoking twice is refused', async () => {
  const ws = await failingWorkspace();
  const finding = await ws.expectFails(check, 'bob@acme.test');
  const { exception } = await createException(
    ws.database,
    tester,
    ws.slug,
    {
      finding: finding.id,
      justification: 'Temporary contractor account',
      approver: 'ciso@acme.test',
      expiresAt: '2026-11-01T00:00:00Z',
      requestedBy: 'sam@acme.test',
    },
    { now: at('2026-10-01T02:00:00Z') },
  );
  const revoked = await revokeException(
    ws.database,
    { type: 'user', id: 'u-9', name: 'ciso@acme.test' },
    ws.slug,
    exception.id,
    { reason: 'contract ended' },
    { now: at('2026-10-03T00:00:00Z') },
  );
  assert.equal(revoked.exception.revoked_by, 'ciso@acme.test');
  assert.equal(revoked.exception.revoke_reason, 'contract ended');
  assert.equal(revoked.finding?.status, 'open');
  const tasks = await rows<{ finding_id: string; status: string; title: string }>(ws, 'tasks');
  assert.ok(
    tasks.some(
      (t) => t.finding_id === finding.id && t.status === 'open' && /exception revoked/.test(t.title),
    ),
  );
  assert.ok((await rows<{ kind: string }>(ws, 'evidence_items')).some((e) => e.kind === 'exception.revoked'));
  assert.ok(
    (await rows<{ action: string }>(ws, 'audit_trail')).some((e) => e.action === 'exception.revoked'),
  );
  const [listed] = await listExceptions(
    ws.database,
    ws.slug,
    { status: 'revoked' },
    { now: at('2026-10-03T00:00:00Z') },
  );
  assert.equal(listed?.row.id, exception.id);

  await rejects(
    revokeException(ws.database, tester, ws.slug, exception.id, {}, { now: at('2026-10-04T00:00:00Z') }),
    'validation_failed',
    /already revoked/,
  );
  await rejects(
    revokeException(ws.database, tester, ws.slug, '00000000-0000-4000-8000-000000000000'),
    'exception_not_found',
    /does not exist/,
  );
  // The evaluation agrees: Bob still fails, his finding stays open.
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectFails(check, 'bob@acme.test');
});

test('bad exception requests are refused with the field and reason', async () => {
  const ws = await failingWorkspace();
  const finding = await ws.expectFails(check, 'alice@acme.test');
  const now = at('2026-10-01T02:00:00Z');
  const base = {
    finding: finding.id,
    justification: 'A good enough reason for this test',
    approver: 'ciso@acme.test',
    expiresAt: '2026-10-15T00:00:00Z',
  };
  const sam = { type: 'user' as const, id: 'u-1', name: 'sam@acme.test' };
  await rejects(
    createException(ws.database, sam, ws.slug, { ...base, approver: 'SAM@acme.test' }, { now }),
    'validation_failed',
    /^approver: .*also the requester/,
  );
  await rejects(
    createException(ws.database, tester, ws.slug, { ...base, requestedBy: 'ciso@acme.test' }, { now }),
    'validation_failed',
    /someone else's approval/,
  );
  await rejects(
    createException(ws.database, sam, ws.slug, { ...base, expiresAt: '2026-09-30' }, { now }),
    'validation_failed',
    /^expiresAt: must be in the future/,
  );
  await rejects(
    createException(ws.database, sam, ws.slug, { ...base, expiresAt: '2028-01-01' }, { now }),
    'validation_failed',
    /at most 366 days/,
  );
  await rejects(
    createException(ws.database, sam, ws.slug, { ...base, expiresAt: 'soon' }, { now }),
    'validation_failed',
    /^expiresAt "soon"/,
  );
  await rejects(
    createException(ws.database, sam, ws.slug, { ...base, justification: 'short' }, { now }),
    'validation_failed',
    /^justification/,
  );
  await rejects(
    createException(
      ws.database,
      sam,
      ws.slug,
      {
        checkId: 'identity.no_such_check',
        subject: 'identity:x',
        justification: base.justification,
        approver: base.approver,
        expiresAt: base.expiresAt,
      },
      { now },
    ),
    'check_not_found',
    /identity.no_such_check/,
  );
  await rejects(
    createException(
      ws.database,
      sam,
      ws.slug,
      {
        checkId: check,
        subject: 'alice',
        justification: base.justification,
        approver: base.approver,
        expiresAt: base.expiresAt,
      },
      { now },
    ),
    'validation_failed',
    /^subject "alice"/,
  );
  await rejects(
    createException(
      ws.database,
      sam,
      ws.slug,
      { ...base, finding: '00000000-0000-4000-8000-000000000000' },
      { now },
    ),
    'finding_not_found',
    /does not exist/,
  );
  await createException(ws.database, sam, ws.slug, base, { now });
  await rejects(
    createException(ws.database, sam, ws.slug, base, { now }),
    'exception_exists',
    /already covers identity.mfa_enabled/,
  );
});
