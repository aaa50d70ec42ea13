import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Created = ColumnType<Date, Date | undefined, never>;
type Updated = ColumnType<Date, Date | undefined, Date>;

export interface TimelineEntry {
  at: string;
  entry: string;
}

export interface Notification {
  at: string;
  /** Who was told: a regulator, customers, a named customer, law enforcement… */
  recipient: string;
}

export type IncidentSeverity = 'low' | 'medium' | 'high' | 'critical';
export type IncidentStatus = 'open' | 'contained' | 'resolved' | 'closed';

export interface IncidentResponsePlansTable {
  workspace_id: string;
  title: string;
  policy_id: string | null;
  owner: string | null;
  last_tested_at: Timestamp | null;
  updated_at: Updated;
}

export interface IncidentsTable {
  id: Generated<string>;
  workspace_id: string;
  reference: string;
  title: string;
  severity: IncidentSeverity;
  status: IncidentStatus;
  detected_at: Timestamp;
  resolved_at: Timestamp | null;
  closed_at: Timestamp | null;
  root_cause: string;
  summary: string;
  owner: string | null;
  control_ids: string[];
  timeline: JSONColumnType<TimelineEntry[], string, string>;
  notifications: JSONColumnType<Notification[], string, string>;
  evidence_id: string | null;
  created_at: Created;
  updated_at: Updated;
}

export interface TabletopExercisesTable {
  id: Generated<string>;
  workspace_id: string;
  title: string;
  scenario: string;
  held_at: Timestamp;
  facilitator: string | null;
  participants: string[];
  outcomes: string;
  tests_plan: boolean;
  evidence_id: string | null;
  created_at: Created;
  updated_at: Updated;
}

export interface FollowUpActionsTable {
  id: Generated<string>;
  workspace_id: string;
  exercise_id: string | null;
  incident_id: string | null;
  title: string;
  owner: string | null;
  due_at: Timestamp;
  status: 'open' | 'done' | 'cancelled';
  closed_at: Timestamp | null;
  resolution: string;
  evidence_id: string | null;
  created_at: Created;
  updated_at: Updated;
}

export interface IncidentTables {
  incident_response_plans: IncidentResponsePlansTable;
  incidents: IncidentsTable;
  tabletop_exercises: TabletopExercisesTable;
  follow_up_actions: FollowUpActionsTable;
}
