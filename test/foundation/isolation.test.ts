import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { buildTestApp } from '../helpers/app.ts';
import { testEngine } from '../helpers/database.ts';

async function twoWorkspaces(t: Parameters<typeof buildTestApp>[0]) {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const ids: Record<string, string> = {};
  for (const slug of ['alpha', 'bravo']) {
    ids[slug] = (
      await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug } })
    ).json().id;
    await app.inject({
      method: 'PUT',
      url: `/api/v1/workspaces/${slug}/scope`,
      payload: { categories: ['availability'] },
    });
    await app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${slug}/systems`,
      payload: {
        name: `${slug}-db`,
        kind: 'data_store',
        environment: 'production',
        dataClassification: 'restricted',
      },
    });
  }
  const controlsOf = async (slug: string) =>
    (await app.inject({ method: 'GET', url: `/api/v1/workspaces/${slug}/controls` })).json().controls as {
      id: string;
      templateId: string;
      owner: string | null;
    }[];
  return { ...ctx, ids, controlsOf };
}

test("API: one workspace's routes never return or change another's rows, even given its ids", async (t) => {
  const { app, controlsOf } = await twoWorkspaces(t);
  const bravoControls = await controlsOf('bravo');
  const target = bravoControls[0]!;

  const read = await app.inject({ method: 'GET', url: `/api/v1/workspaces/alpha/controls/${target.id}` });
  assert.equal(read.statusCode, 404);
  const write = await app.inject({
    method: 'PATCH',
    url: `/api/v1/workspaces/alpha/controls/${target.id}`,
    payload: { owner: 'intruder@alpha.example' },
  });
  assert.equal(write.statusCode, 404);
  const unchanged = (await controlsOf('bravo')).find((c) => c.id === target.id)!;
  assert.equal(unchanged.owner, null);

  const alphaIds = new Set((await controlsOf('alpha')).map((c) => c.id));
  for (const c of bravoControls) assert.ok(!alphaIds.has(c.id));
  const systems = (await app.inject({ method: 'GET', url: '/api/v1/workspaces/alpha/systems' })).json()
    .systems;
  assert.deepEqual(
    systems.map((s: { name: string }) => s.name),
    ['alpha-db'],
  );
  const draft = (await app.inject({ method: 'GET', url: '/api/v1/workspaces/alpha/system-description' }))
    .body;
  assert.doesNotMatch(draft, /bravo/);
});

test('row-level security: raw SQL under workspace A sees and writes none of B', async (t) => {
  const { database, ids } = await twoWorkspaces(t);
  const alpha = ids.alpha!;
  const bravo = ids.bravo!;

  await database.inWorkspace(alpha, async (trx) => {
    // No workspace filter at all: RLS alone must hide bravo.
    const controls = await sql<{ workspace_id: string }>`select workspace_id from controls`.execute(trx);
    assert.ok(controls.rows.length > 0);
    assert.ok(controls.rows.every((r) => r.workspace_id === alpha));
    const explicit = await sql<{
      n: number;
    }>`select count(*)::int as n from controls where workspace_id = ${bravo}`.execute(trx);
    assert.equal(explicit.rows[0]!.n, 0);
    for (const table of ['systems', 'workspace_scopes', 'audit_trail']) {
      const rows = await sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(table)} where workspace_id = ${bravo}`.execute(trx);
      assert.equal(rows.rows[0]!.n, 0, `${table} leaks bravo rows`);
    }
    const workspaces = await sql<{ slug: string }>`select slug from workspaces`.execute(trx);
    assert.deepEqual(
      workspaces.rows.map((r) => r.slug),
      ['alpha'],
    );
    const updated = await sql`update controls set owner = 'x' where workspace_id = ${bravo}`.execute(trx);
    assert.equal(Number(updated.numAffectedRows ?? 0), 0);
  });

  // Writing a row that belongs to bravo from alpha's context is refused by the policy.
  await assert.rejects(
    database.inWorkspace(alpha, (trx) =>
      sql`insert into systems (workspace_id, name, kind, environment, data_classification)
          values (${bravo}, 'smuggled', 'saas', 'production', 'public')`.execute(trx),
    ),
    /row-level security/,
  );

  // Without any workspace set, the application role sees nothing.
  const none = await database.db.transaction().execute(async (trx) => {
    await sql`set local role assay_app`.execute(trx);
    return (await sql<{ n: number }>`select count(*)::int as n from controls`.execute(trx)).rows[0]!.n;
  });
  assert.equal(none, 0);
});

test('a workspace transaction is scoped from its first statement; transactions opened inside it are not its', async (t) => {
  if (testEngine === 'pglite') {
    // Its one connection is held by the open transaction: nothing can be opened inside it.
    t.skip('needs PostgreSQL: the embedded database is a single connection');
    return;
  }
  const { database, ids } = await twoWorkspaces(t);
  const alpha = ids.alpha!;
  const bravo = ids.bravo!;
  const scopeOf = (trx: Parameters<Parameters<typeof database.inSystem>[0]>[0]) =>
    sql<{ role: string; workspace: string; slugs: string[] }>`
      select current_user as role, current_setting('assay.workspace_id', true) as workspace,
        array(select slug from workspaces order by slug) as slugs`
      .execute(trx)
      .then((r) => r.rows[0]!);

  const seen = await database.inWorkspace(alpha, async (trx) => {
    const own = await scopeOf(trx);
    // Opened while alpha's transaction is open: on connections of their own, with their own scope.
    const system = await database.inSystem(scopeOf);
    const other = await database.inWorkspace(bravo, scopeOf);
    const after = await scopeOf(trx);
    return { own, system, other, after };
  });
  assert.deepEqual(seen.own, { role: 'assay_app', workspace: alpha, slugs: ['alpha'] });
  assert.deepEqual(seen.after, seen.own);
  assert.deepEqual(seen.other, { role: 'assay_app', workspace: bravo, slugs: ['bravo'] });
  assert.notEqual(seen.system.role, 'assay_app');
  assert.deepEqual(seen.system.slugs, ['alpha', 'bravo']);
});
