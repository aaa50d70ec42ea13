/**
 * The set-up the joiner and mover journeys share: the `acme` workspace with an Okta SCIM
 * directory pushing into it, an HR roster import that runs the evaluation it queues (and with it
 * governance reconciliation), and a way to run the evaluation a SCIM write queued.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Database } from '../../src/db/database.ts';
import { importFile } from '../../src/domains/ingest/import.service.ts';
import { runQueuedEvaluationNow } from '../../src/jobs/evaluation.ts';
import { operator, pushHarness } from '../connectors/push-helpers.ts';

export const userUrn = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const api = '/api/v1/workspaces/acme';
export const rosterHeader =
  'employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status';

/** The `acme` workspace, its SCIM directory (`okta`) and the API, pre-authenticated. */
export function governanceHarness(t: TestContext) {
  return pushHarness(t, 'okta');
}

async function* chunks(text: string) {
  yield text;
}

/** Imports HR roster rows (after the header) into `acme` and runs the evaluation it queued. */
export async function importRoster(database: Database, rows: string[]) {
  const summary = await importFile(
    database,
    operator,
    'acme',
    'hr-roster',
    chunks([rosterHeader, ...rows].join('\n')),
    {
      fileName: 'roster.csv',
    },
  );
  return runQueuedEvaluationNow(database, summary.evaluation, operator, 30);
}

/** Runs the evaluation a SCIM write queued (there must be one). */
export async function runPendingEvaluation(database: Database) {
  const job = await database.db
    .selectFrom('jobs')
    .select('id')
    .where('kind', '=', 'evaluate_checks')
    .where('status', '=', 'pending')
    .executeTakeFirst();
  assert.ok(job, 'the change queued an evaluation');
  return runQueuedEvaluationNow(database, { jobId: Number(job.id), checkIds: [] }, operator, 30);
}
