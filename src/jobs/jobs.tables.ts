import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type JobStatus = 'pending' | 'running' | 'done' | 'failed';

export interface JobsTable {
  id: Generated<number>;
  workspace_id: string;
  kind: string;
  payload: JSONColumnType<Record<string, unknown>, string, string>;
  status: ColumnType<JobStatus, JobStatus | undefined, JobStatus>;
  run_at: ColumnType<Date, Date | string | undefined, Date | string>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_until: Timestamp | null;
  last_error: string | null;
  dedupe_key: string | null;
  created_at: ColumnType<Date, never, never>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface SchedulesTable {
  workspace_id: string;
  name: string;
  next_run_at: Timestamp;
  last_run_at: Timestamp | null;
  last_job_id: number | null;
}

export interface JobTables {
  jobs: JobsTable;
  schedules: SchedulesTable;
}
