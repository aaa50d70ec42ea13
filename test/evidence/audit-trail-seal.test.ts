/**
 * The audit trail sealed into the evidence ledger: the scheduler queues the sealing of entries
 * older than the checkpoint interval; sealing turns them into `audit.trail` evidence holding each
 * entry as recorded, marks every entry with that evidence, leaves nothing unsealed, never seals
 * an entry twice, and the ledger still verifies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { sealAuditTrail } from '../../src/domains/audit/seal-audit-trail.ts';
import { assignControlOwner } from '../../src/domains/controls/controls.service.ts';
import { verifyLedger } from '../../src/domains/evidence/evidence.service.ts';
import { auditSealKind } from '../../src/jobs/handlers.ts';
import { schedulerTick } from '../../src/jobs/scheduler.ts';
import { addWorkspace, ledgerFixture, operator } from './fixtures.ts';

test('the audit trail is sealed into the ledger: queued by the scheduler, each entry once, verifiable', async (t) => {
  const f = await ledgerFixture(t);
  const otherId = await addWorkspace(f.database, 'zenith');
  await assignControlOwner(f.database, operator, f.slug, { control: 'AC-01', owner: 'sam@acme.example' });
  await assignControlOwner(f.database, operator, f.slug, { control: 'AC-03', owner: 'ana@acme.example' });

  const trail = () =>
    f.database.inWorkspace(f.workspaceId, (trx) =>
      trx
        .selectFrom('audit_trail')
        .select(['id', 'action', 'actor_id', 'target_id', 'details', 'evidence_id'])
        .where('workspace_id', '=', f.workspaceId)
        .orderBy('id')
        .execute(),
    );
  const before = await trail();
  assert.ok(before.length >= 3, 'creating, scoping and assigning are audited');
  assert.ok(before.every((e) => e.evidence_id === null));

  // Entries younger than the interval wait; with a zero interval every workspace is queued once.
  const patient = await schedulerTick(f.database, { checkpointIntervalSeconds: 3600 });
  assert.equal(patient.auditSeals, 0);
  const due = await schedulerTick(f.database, { checkpointIntervalSeconds: 0 });
  assert.equal(due.auditSeals, 2);
  await schedulerTick(f.database, { checkpointIntervalSeconds: 0 });
  const { rows: jobs } = await sql<{ workspace_id: string; n: number }>`
    select workspace_id, count(*)::int as n from jobs where kind = ${auditSealKind}
    group by workspace_id order by workspace_id`.execute(f.database.db);
  assert.deepEqual(
    jobs.map((j) => [j.workspace_id, j.n]),
    [
      [f.workspaceId, 1],
      [otherId, 1],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    'one pending seal per workspace',
  );

  const sealed = await sealAuditTrail(f.database, f.workspaceId);
  assert.equal(sealed.entries, before.length);
  assert.equal(sealed.evidenceIds.length, 1);
  const after = await trail();
  assert.ok(
    after.every((e) => e.evidence_id === sealed.evidenceIds[0]),
    'every entry names its seal',
  );

  const item = await f.database.inWorkspace(f.workspaceId, (trx) =>
    trx
      .selectFrom('evidence_items')
      .select(['kind', 'content'])
      .where('workspace_id', '=', f.workspaceId)
      .where('id', '=', sealed.evidenceIds[0]!)
      .executeTakeFirstOrThrow(),
  );
  assert.equal(item.kind, 'audit.trail');
  const content = JSON.parse(Buffer.from(item.content!).toString('utf8')) as {
    entries: {
      id: number;
      action: string;
      actor: { id: string };
      target: { id: string };
      details: unknown;
    }[];
  };
  assert.deepEqual(
    content.entries.map((e) => [e.id, e.action, e.actor.id, e.target.id]),
    after.map((e) => [Number(e.id), e.action, e.actor_id, e.target_id]),
  );
  assert.ok(content.entries.some((e) => JSON.stringify(e.details).includes('sam@acme.example')));

  // Nothing is sealed twice; new entries go into a new seal.
  assert.deepEqual(await sealAuditTrail(f.database, f.workspaceId), { entries: 0, evidenceIds: [] });
  await assignControlOwner(f.database, operator, f.slug, { control: 'AC-01', owner: 'kim@acme.example' });
  const next = await sealAuditTrail(f.database, f.workspaceId);
  assert.equal(next.entries, 1);
  assert.notEqual(next.evidenceIds[0], sealed.evidenceIds[0]);

  const verification = await verifyLedger(f.database, f.store, f.slug);
  assert.equal(verification.ok, true, verification.firstFailure?.message);
  // The other workspace's trail is its own.
  const other = await sealAuditTrail(f.database, otherId);
  assert.ok(other.entries >= 2);
});
