-- Programme registers: vendors and their assurance documents, risks, policies with versions and
-- acknowledgements, incidents with tabletop exercises and follow-up actions, training, manual
-- change records and continuity tests. Each record that is evidence keeps the id of its ledger
-- entry. Names are unique per workspace regardless of case; nothing here is ever deleted except a
-- document's CUEC list, which is replaced whole when the document is corrected.

-- Vendors ------------------------------------------------------------------------------------

create table vendors (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 200),
  service text not null default '',
  data_accessed text[] not null default '{}',
  criticality text not null check (criticality in ('low', 'medium', 'high', 'critical')),
  in_scope boolean not null default true,
  owner text,
  contract_start timestamptz,
  contract_end timestamptz,
  status text not null default 'active' check (status in ('active', 'offboarded')),
  review_cadence_days integer not null default 365 check (review_cadence_days between 1 and 3660),
  last_reviewed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('vendors');
create unique index vendors_name_idx on vendors (workspace_id, lower(name));

-- SOC 2 reports, ISO 27001 certificates and bridging letters. period_end is the end of the audit
-- period (SOC 2), the expiry date (ISO 27001) or the date a bridging letter covers up to.
create table vendor_documents (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  vendor_id uuid not null references vendors (id),
  kind text not null check (kind in ('soc2_type1', 'soc2_type2', 'iso27001', 'bridging_letter')),
  period_start timestamptz,
  period_end timestamptz not null,
  auditor text not null default '',
  opinion text check (opinion in ('unqualified', 'qualified', 'adverse', 'disclaimer')),
  exceptions_noted boolean not null default false,
  exceptions_summary text not null default '',
  categories text[] not null default '{}',
  services text[] not null default '{}',
  subservice_organizations jsonb not null default '[]'::jsonb,
  received_at timestamptz not null,
  reviewed_by text,
  reviewed_at timestamptz,
  notes text not null default '',
  blob_sha256 text,
  evidence_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (vendor_id, kind, period_end),
  check (period_start is null or period_start <= period_end)
);
select assay_enable_workspace_rls('vendor_documents');
create index vendor_documents_vendor_idx on vendor_documents (workspace_id, vendor_id, period_end);

-- Complementary user entity controls a vendor's report expects of us, each mapped to our control.
create table vendor_cuecs (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  document_id uuid not null references vendor_documents (id) on delete cascade,
  reference text not null,
  description text not null,
  control_id text,
  unique (document_id, reference)
);
select assay_enable_workspace_rls('vendor_cuecs');

create table vendor_reviews (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  vendor_id uuid not null references vendors (id),
  reviewed_at timestamptz not null,
  reviewer text not null,
  outcome text not null check (outcome in ('approved', 'approved_with_conditions', 'rejected')),
  notes text not null default '',
  evidence_id text,
  created_at timestamptz not null default now()
);
select assay_enable_workspace_rls('vendor_reviews');
create index vendor_reviews_vendor_idx on vendor_reviews (workspace_id, vendor_id, reviewed_at);

-- Risks --------------------------------------------------------------------------------------

-- The rating scale (likelihood × impact) and the score from which a rating is medium/high/critical.
create table risk_matrices (
  workspace_id uuid primary key references workspaces (id),
  likelihood_levels integer not null default 5 check (likelihood_levels between 2 and 10),
  impact_levels integer not null default 5 check (impact_levels between 2 and 10),
  medium_from integer not null default 5,
  high_from integer not null default 10,
  critical_from integer not null default 17,
  updated_at timestamptz not null default now(),
  check (medium_from < high_from and high_from < critical_from)
);
select assay_enable_workspace_rls('risk_matrices');

create table risks (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  reference text not null check (length(reference) between 1 and 60),
  title text not null,
  description text not null default '',
  category text not null default '',
  owner text,
  fraud_risk boolean not null default false,
  inherent_likelihood integer not null check (inherent_likelihood >= 1),
  inherent_impact integer not null check (inherent_impact >= 1),
  residual_likelihood integer check (residual_likelihood >= 1),
  residual_impact integer check (residual_impact >= 1),
  treatment text not null check (treatment in ('mitigate', 'accept', 'transfer', 'avoid')),
  treatment_plan text not null default '',
  control_ids text[] not null default '{}',
  status text not null default 'open' check (status in ('open', 'closed')),
  review_cadence_days integer not null default 365 check (review_cadence_days between 1 and 3660),
  last_reviewed_at timestamptz,
  evidence_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('risks');
create unique index risks_reference_idx on risks (workspace_id, lower(reference));

create table risk_reviews (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  risk_id uuid not null references risks (id),
  reviewed_at timestamptz not null,
  reviewer text not null,
  notes text not null default '',
  snapshot jsonb not null,
  evidence_id text,
  created_at timestamptz not null default now()
);
select assay_enable_workspace_rls('risk_reviews');
create index risk_reviews_risk_idx on risk_reviews (workspace_id, risk_id, reviewed_at);

-- Significant changes (new in-scope system, new vendor, organisation change) awaiting a risk
-- reassessment (CC3.4). source_key makes detection idempotent.
create table significant_changes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  kind text not null check (kind in ('new_system', 'new_vendor', 'org_change', 'other')),
  source_key text not null,
  description text not null,
  detected_at timestamptz not null,
  task_id uuid,
  assessed_at timestamptz,
  assessed_by text,
  assessment text,
  risk_ids text[] not null default '{}',
  evidence_id text,
  created_at timestamptz not null default now(),
  unique (workspace_id, source_key)
);
select assay_enable_workspace_rls('significant_changes');

-- Policies -----------------------------------------------------------------------------------

create table policies (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  title text not null check (length(title) between 1 and 200),
  kind text not null default 'policy' check (kind in ('policy', 'standard', 'procedure', 'plan')),
  owner text,
  review_cadence_days integer not null default 365 check (review_cadence_days between 1 and 3660),
  acknowledgement_required boolean not null default true,
  control_ids text[] not null default '{}',
  status text not null default 'draft' check (status in ('draft', 'active', 'retired')),
  current_version_id uuid,
  last_reviewed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('policies');
create unique index policies_title_idx on policies (workspace_id, lower(title));

create table policy_versions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  policy_id uuid not null references policies (id),
  version integer not null check (version >= 1),
  body text not null,
  body_sha256 text not null,
  change_summary text not null default '',
  created_by text not null,
  created_at timestamptz not null default now(),
  approved_by text,
  approved_at timestamptz,
  published_at timestamptz,
  approval_evidence_id text,
  publication_evidence_id text,
  unique (policy_id, version),
  check (published_at is null or approved_at is not null)
);
select assay_enable_workspace_rls('policy_versions');

create table policy_reviews (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  policy_id uuid not null references policies (id),
  version_id uuid references policy_versions (id),
  reviewed_at timestamptz not null,
  reviewer text not null,
  outcome text not null check (outcome in ('no_change', 'revision_needed')),
  notes text not null default '',
  evidence_id text,
  created_at timestamptz not null default now()
);
select assay_enable_workspace_rls('policy_reviews');

-- One acknowledgement campaign per policy version; audience empty = the whole active workforce.
create table policy_ack_campaigns (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  policy_id uuid not null references policies (id),
  version_id uuid not null unique references policy_versions (id),
  launched_at timestamptz not null,
  due_at timestamptz not null,
  audience text[] not null default '{}',
  launched_by text not null,
  created_at timestamptz not null default now(),
  check (due_at >= launched_at)
);
select assay_enable_workspace_rls('policy_ack_campaigns');

-- Per person and version; rows of earlier versions stay when a new version is published.
create table policy_acknowledgements (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  policy_id uuid not null references policies (id),
  version_id uuid not null references policy_versions (id),
  campaign_id uuid references policy_ack_campaigns (id),
  email text not null check (email = lower(email)),
  acknowledged_at timestamptz not null,
  source text not null check (source in ('recorded', 'imported', 'self')),
  evidence_id text,
  created_at timestamptz not null default now(),
  unique (version_id, email)
);
select assay_enable_workspace_rls('policy_acknowledgements');
create index policy_acknowledgements_email_idx on policy_acknowledgements (workspace_id, email);

-- Incidents ----------------------------------------------------------------------------------

create table incident_response_plans (
  workspace_id uuid primary key references workspaces (id),
  title text not null,
  policy_id uuid references policies (id),
  owner text,
  last_tested_at timestamptz,
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('incident_response_plans');

create table incidents (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  reference text not null check (length(reference) between 1 and 60),
  title text not null,
  severity text not null check (severity in ('low', 'medium', 'high', 'critical')),
  status text not null check (status in ('open', 'contained', 'resolved', 'closed')),
  detected_at timestamptz not null,
  resolved_at timestamptz,
  closed_at timestamptz,
  root_cause text not null default '',
  summary text not null default '',
  owner text,
  control_ids text[] not null default '{}',
  timeline jsonb not null default '[]'::jsonb,
  notifications jsonb not null default '[]'::jsonb,
  evidence_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('incidents');
create unique index incidents_reference_idx on incidents (workspace_id, lower(reference));

create table tabletop_exercises (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  title text not null,
  scenario text not null,
  held_at timestamptz not null,
  facilitator text,
  participants text[] not null default '{}',
  outcomes text not null default '',
  tests_plan boolean not null default true,
  evidence_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('tabletop_exercises');
create unique index tabletop_exercises_key_idx on tabletop_exercises (workspace_id, lower(title), held_at);

-- Follow-up actions from an exercise or an incident, tracked to closure.
create table follow_up_actions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  exercise_id uuid references tabletop_exercises (id),
  incident_id uuid references incidents (id),
  title text not null,
  owner text,
  due_at timestamptz not null,
  status text not null default 'open' check (status in ('open', 'done', 'cancelled')),
  closed_at timestamptz,
  resolution text not null default '',
  evidence_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((exercise_id is null) <> (incident_id is null))
);
select assay_enable_workspace_rls('follow_up_actions');
create index follow_up_actions_status_idx on follow_up_actions (workspace_id, status, due_at);

-- Training -----------------------------------------------------------------------------------

create table training_courses (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  code text not null check (length(code) between 1 and 60),
  title text not null,
  kind text not null check (kind in ('security_awareness', 'role_specific', 'other')),
  frequency text not null check (frequency in ('once', 'annual')),
  due_days integer not null default 30 check (due_days between 0 and 365),
  audience_departments text[] not null default '{}',
  audience_titles text[] not null default '{}',
  control_ids text[] not null default '{}',
  active boolean not null default true,
  effective_from timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('training_courses');
create unique index training_courses_code_idx on training_courses (workspace_id, lower(code));

create table training_completions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  course_id uuid not null references training_courses (id),
  email text not null check (email = lower(email)),
  completed_at timestamptz not null,
  source text not null check (source in ('recorded', 'imported')),
  score integer check (score between 0 and 100),
  evidence_id text,
  created_at timestamptz not null default now(),
  unique (course_id, email, completed_at)
);
select assay_enable_workspace_rls('training_completions');
create index training_completions_email_idx on training_completions (workspace_id, email);

-- Assignments made by hand (beyond the ones derived from hire dates, refresh cycles and roles).
create table training_assignments (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  course_id uuid not null references training_courses (id),
  email text not null check (email = lower(email)),
  assigned_at timestamptz not null,
  due_at timestamptz not null,
  assigned_by text not null,
  created_at timestamptz not null default now(),
  unique (course_id, email, due_at)
);
select assay_enable_workspace_rls('training_assignments');

-- Changes ------------------------------------------------------------------------------------

create table change_records (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  ticket text not null check (length(ticket) between 1 and 100),
  title text not null,
  description text not null default '',
  system text not null default '',
  emergency boolean not null default false,
  author text not null,
  approver text,
  approved_at timestamptz,
  tester text,
  tested_at timestamptz,
  implemented_at timestamptz,
  status text not null check (status in ('planned', 'approved', 'implemented', 'rolled_back', 'cancelled')),
  evidence_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('change_records');
create unique index change_records_ticket_idx on change_records (workspace_id, lower(ticket));

-- Continuity ---------------------------------------------------------------------------------

create table continuity_tests (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  kind text not null check (kind in ('backup_restore', 'dr_exercise')),
  target text not null check (length(target) between 1 and 200),
  performed_at timestamptz not null,
  performed_by text not null,
  result text not null check (result in ('success', 'partial', 'failed')),
  rto_target_minutes integer check (rto_target_minutes >= 0),
  rto_actual_minutes integer check (rto_actual_minutes >= 0),
  rpo_target_minutes integer check (rpo_target_minutes >= 0),
  rpo_actual_minutes integer check (rpo_actual_minutes >= 0),
  notes text not null default '',
  evidence_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('continuity_tests');
create unique index continuity_tests_key_idx on continuity_tests (workspace_id, kind, lower(target), performed_at);
