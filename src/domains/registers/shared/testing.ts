/** Test fixtures for the registers: a scoped workspace, and readers for its evidence and findings. */
import type { TestContext } from 'node:test';
import { createTestDatabase } from '../../../../test/helpers/database.ts';
import type { Actor } from '../../audit/actor.ts';
import { getEvidence, listEvidence } from '../../evidence/evidence.service.ts';
import { listWorkspaceFindings } from '../../findings/findings.service.ts';
import { runChecks } from '../../monitoring/run-checks.service.ts';
import { setScope } from '../../scope/scope.service.ts';
import { createWorkspace } from '../../workspaces/workspaces.service.ts';

export const tester: Actor = { type: 'user', id: 'u-1', name: 'sam@acme.example' };

export async function registerFixture(t: TestContext, slug = 'acme') {
  const { database } = await createTestDatabase(t);
  await createWorkspace(database, tester, { slug });
  await setScope(database, tester, slug, ['security', 'availability']);
  return {
    database,
    slug,
    async evidence(id: string | null | undefined) {
      if (!id) throw new Error('no evidence id');
      return getEvidence(database, slug, id);
    },
    async evidenceOfKind(kind: string) {
      return (await listEvidence(database, slug, { kind })).items;
    },
    async findings(checkId: string, status?: 'open' | 'closed' | 'suppressed') {
      return listWorkspaceFindings(database, slug, { checkId, status });
    },
    run(asOf: Date, checkIds?: string[]) {
      return runChecks(database, tester, slug, { asOf, checkIds });
    },
  };
}

export const at = (iso: string) => new Date(iso);

/** People as HR states them (the audience of campaigns and training). */
export async function addPeople(
  database: Awaited<ReturnType<typeof registerFixture>>['database'],
  slug: string,
  people: {
    email: string;
    name?: string;
    startDate?: string;
    endDate?: string;
    department?: string;
    title?: string;
  }[],
) {
  const { getWorkspace } = await import('../../workspaces/workspaces.service.ts');
  const workspace = await getWorkspace(database, slug);
  await database.inWorkspace(workspace.id, async (trx) => {
    for (const [i, p] of people.entries()) {
      await trx
        .insertInto('people')
        .values({
          workspace_id: workspace.id,
          employee_id: `E${i + 1}`,
          source: 'test',
          name: p.name ?? p.email.split('@')[0]!,
          email: p.email,
          title: p.title ?? null,
          department: p.department ?? null,
          manager_email: null,
          employment_type: 'employee',
          start_date: p.startDate ?? null,
          end_date: p.endDate ?? null,
          status: 'active',
          observed_at: new Date('2025-01-01T00:00:00Z'),
        })
        .execute();
    }
  });
}
