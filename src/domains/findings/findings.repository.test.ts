import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import { systemActor } from '../audit/actor.ts';
import { createWorkspace } from '../workspaces/workspaces.service.ts';
import { countOpenFindingsByCheck, listChecksWithOpenFindings } from './findings.repository.ts';

test('the checks with an open finding are those counted open: closed and suppressed findings do not count', async (t) => {
  const { database } = await createTestDatabase(t);
  const mine = await createWorkspace(database, systemActor, { slug: 'mine' });
  const other = await createWorkspace(database, systemActor, { slug: 'other' });
  const add = (workspaceId: string, checkId: string, subject: string, status: string) =>
    database.inWorkspace(workspaceId, (trx) =>
      sql`insert into findings (workspace_id, check_id, subject_key, subject, control_ids, criteria, severity,
            status, detail, opened_at, deadline)
          values (${workspaceId}, ${checkId}, ${subject}, '{}', '{}', '{}', 'high', ${status}, 'd', now(), now())`.execute(
        trx,
      ),
    );
  await add(mine.id, 'open.check', 'a', 'closed');
  await add(mine.id, 'open.check', 'b', 'suppressed');
  await add(mine.id, 'open.check', 'c', 'open');
  await add(mine.id, 'closed.check', 'a', 'closed');
  await add(mine.id, 'suppressed.check', 'a', 'suppressed');
  await add(other.id, 'other.check', 'a', 'open');
  const checks = ['open.check', 'closed.check', 'suppressed.check', 'other.check', 'unknown.check'];
  const [probed, counted] = await database.inWorkspace(mine.id, (trx) =>
    Promise.all([
      listChecksWithOpenFindings(trx, mine.id, checks),
      countOpenFindingsByCheck(trx, mine.id, checks),
    ]),
  );
  assert.deepEqual([...probed].sort(), ['open.check']);
  assert.deepEqual([...probed].sort(), [...counted.keys()].sort());
  assert.deepEqual(
    await database.inWorkspace(mine.id, (trx) => listChecksWithOpenFindings(trx, mine.id, [])),
    new Set(),
  );
});
