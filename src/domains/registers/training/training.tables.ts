import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Created = ColumnType<Date, Date | undefined, never>;
type Updated = ColumnType<Date, Date | undefined, Date>;

export interface TrainingCoursesTable {
  id: Generated<string>;
  workspace_id: string;
  code: string;
  title: string;
  kind: 'security_awareness' | 'role_specific' | 'other';
  frequency: 'once' | 'annual';
  due_days: number;
  audience_departments: string[];
  audience_titles: string[];
  control_ids: string[];
  active: boolean;
  effective_from: Timestamp;
  created_at: Created;
  updated_at: Updated;
}

export interface TrainingCompletionsTable {
  id: Generated<string>;
  workspace_id: string;
  course_id: string;
  email: string;
  completed_at: Timestamp;
  source: 'recorded' | 'imported';
  score: number | null;
  evidence_id: string | null;
  created_at: Created;
}

export interface TrainingAssignmentsTable {
  id: Generated<string>;
  workspace_id: string;
  course_id: string;
  email: string;
  assigned_at: Timestamp;
  due_at: Timestamp;
  assigned_by: string;
  created_at: Created;
}

export interface TrainingTables {
  training_courses: TrainingCoursesTable;
  training_completions: TrainingCompletionsTable;
  training_assignments: TrainingAssignmentsTable;
}
