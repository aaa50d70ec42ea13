import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../../../test/helpers/app.ts';

const day = 86_400_000;

test('drift lists status changes since an instant, newest first; a first status is no change', async (t) => {
  const { app, database } = await buildTestApp(t);
  const created = await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const workspaceId = created.json().id as string;
  await app.inject({ method: 'PUT', url: '/api/v1/workspaces/acme/scope', payload: { categories: [] } });
  const controls = (await app.inject('/api/v1/workspaces/acme/controls')).json().controls as {
    id: string;
    templateId: string;
  }[];
  const [a, b] = controls;
  assert.ok(a && b);
  const now = Date.now();
  await database.inWorkspace(workspaceId, (trx) =>
    trx
      .insertInto('control_status_intervals')
      .values([
        // a: passing for months, failing since ten days ago (drift), passing again since two (drift).
        {
          workspace_id: workspaceId,
          control_id: a.id,
          status: 'passing',
          valid_from: new Date(now - 90 * day),
          valid_to: new Date(now - 10 * day),
          reason: 'all pass',
        },
        {
          workspace_id: workspaceId,
          control_id: a.id,
          status: 'failing',
          valid_from: new Date(now - 10 * day),
          valid_to: new Date(now - 2 * day),
          reason: 'a failure',
        },
        {
          workspace_id: workspaceId,
          control_id: a.id,
          status: 'passing',
          valid_from: new Date(now - 2 * day),
          valid_to: null,
          reason: 'fixed',
        },
        // b: first evaluated five days ago: its first status is not drift.
        {
          workspace_id: workspaceId,
          control_id: b.id,
          status: 'failing',
          valid_from: new Date(now - 5 * day),
          valid_to: null,
          reason: 'first look',
        },
      ])
      .execute(),
  );

  const recent = (await app.inject('/api/v1/workspaces/acme/drift')).json();
  assert.deepEqual(
    recent.changes.map((c: { control: string; status: string; reason: string }) => [
      c.control,
      c.status,
      c.reason,
    ]),
    [
      [a.templateId, 'passing', 'fixed'],
      [a.templateId, 'failing', 'a failure'],
    ],
  );
  const since = new Date(now - 5 * day).toISOString();
  const narrow = (await app.inject(`/api/v1/workspaces/acme/drift?since=${since}`)).json();
  assert.equal(narrow.changes.length, 1);
  assert.equal((await app.inject('/api/v1/workspaces/acme/drift?since=yesterday')).statusCode, 400);
});
