/**
 * Joiners: a hire opens the person's onboarding set — one acknowledgement per published policy
 * that needs it, one item per security training course in their audience, and one access request
 * whose approval authorises their initial access — each a governance task with a deadline from
 * the start date. Policy and training items close when the register records the acknowledgement
 * or completion; the access request closes when someone other than the joiner approves it. Each
 * completion appends `identity.onboarding_item_completed` (or `identity.access_request_approved`)
 * evidence. An item still open past its deadline is a finding for the person
 * (`identity.onboarding_overdue`), linked from the overdue items, closed when none is left.
 *
 * A hire is an HR record with a start date within the look-back window (or in the future), or an
 * active account created by a SCIM directory within that window whose person HR does not know as
 * an earlier starter. The set is opened once per person; replays open nothing new.
 */
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { insertFinding, listLiveFindings, updateFinding } from '../findings/findings.repository.ts';
import type { Facts } from '../monitoring/facts.ts';
import { inAudience } from '../registers/training/assignments.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import type { GovernanceSettings } from './governance-settings.ts';
import {
  cancelDirectoryTasksWithoutAccount,
  cancelOpenTasksOfPeople,
  findFirstAccountAt,
  findPolicyAcknowledgement,
  findTaskOfKind,
  findTrainingCompletion,
  insertOnboardingTask,
  listActiveCourses,
  listPeopleWithOnboarding,
  listPoliciesNeedingAcknowledgement,
} from './jml.repository.ts';
import { linkTasksToFinding, listOpenTasks, listOverdueTasks, listTasksOfKinds } from './tasks.repository.ts';
import { completeTaskWithEvidence } from './tasks.service.ts';

const day = 24 * 3600 * 1000;
export const policyAckKind = 'onboarding_policy_ack';
export const trainingKind = 'onboarding_training';
export const accessRequestKind = 'onboarding_access_request';
export const onboardingKinds = [policyAckKind, trainingKind, accessRequestKind] as const;
export const onboardingCheckId = 'identity.onboarding_overdue';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const emailPattern = /^[^@\s]+@[^@\s]+$/;

export interface Hire {
  email: string;
  name: string | null;
  personId: string | null;
  /** The start date (HR) or when the directory created the account. */
  startedAt: Date;
  trigger: 'hr' | 'scim';
  title: string | null;
  department: string | null;
  managerEmail: string | null;
}

interface OnboardingDetails {
  subjectKey: string;
  personEmail: string;
  personName: string | null;
  personId: string | null;
  startedAt: string;
  trigger: Hire['trigger'];
  managerEmail: string | null;
  policyId?: string;
  policyTitle?: string;
  version?: number;
  courseId?: string;
  courseCode?: string;
  completion?: { at: string; source: string; withinDeadline: boolean; sourceEvidenceId: string | null };
  approval?: {
    approver: string;
    justification: string;
    entitlements: string[];
    at: string;
    withinDeadline: boolean;
  };
  evidenceId?: string;
}

export interface JoinerSummary {
  onboardingOpened: number;
  onboardingCompleted: number;
  onboardingOverdue: number;
}

/** The hires as the facts stand at `asOf`, one per email (HR first). */
export async function findHires(facts: Facts, settings: GovernanceSettings): Promise<Hire[]> {
  const asOf = facts.asOf;
  const since = new Date(asOf.getTime() - settings.joinerLookbackDays * day);
  const [people, identities] = await Promise.all([facts.people(), facts.identities()]);
  const hires = new Map<string, Hire>();
  for (const p of people) {
    if (p.status === 'terminated' || !p.startDate || p.startDate < since) continue;
    hires.set(p.email.toLowerCase(), {
      email: p.email.toLowerCase(),
      name: p.name,
      personId: p.id,
      startedAt: p.startDate,
      trigger: 'hr',
      title: p.title,
      department: p.department,
      managerEmail: p.managerEmail?.toLowerCase() ?? null,
    });
  }
  for (const i of identities) {
    if (!i.system.startsWith('scim:') || i.status !== 'active' || i.nonHuman) continue;
    if (i.firstSeenAt < since || i.firstSeenAt > asOf) continue;
    const email = (
      i.person?.email ??
      i.email ??
      (i.userName?.includes('@') ? i.userName : null)
    )?.toLowerCase();
    if (!email || !emailPattern.test(email) || hires.has(email)) continue;
    // A new account for someone HR knows as an earlier starter is not a hire.
    if (i.person && (i.person.status === 'terminated' || (i.person.startDate && i.person.startDate < since)))
      continue;
    hires.set(email, {
      email,
      name: i.person?.name ?? i.displayName,
      personId: i.person?.id ?? null,
      startedAt: i.firstSeenAt,
      trigger: 'scim',
      title: i.person?.title ?? null,
      department: i.person?.department ?? null,
      managerEmail: i.person?.managerEmail?.toLowerCase() ?? null,
    });
  }
  return [...hires.values()].sort((a, b) => a.email.localeCompare(b.email));
}

async function insertItem(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  kind: string,
  title: string,
  assignee: string | null,
  dueAt: Date,
  details: OnboardingDetails,
): Promise<boolean> {
  const id = await insertOnboardingTask(trx, workspaceId, { kind, title, assignee, dueAt, details });
  if (!id) return false;
  await recordAudit(trx, {
    workspaceId,
    actor,
    action: 'governance.onboarding_item_opened',
    targetType: 'task',
    targetId: id,
    details: { kind, ...details },
  });
  return true;
}

/** Opens the onboarding set of each new hire (once), due from the start date (or from now, if later). */
async function openOnboarding(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  hires: Hire[],
  settings: GovernanceSettings,
  asOf: Date,
): Promise<number> {
  if (hires.length === 0) return 0;
  const already = new Set(await listPeopleWithOnboarding(trx, workspaceId, accessRequestKind));
  const fresh = hires.filter((h) => !already.has(h.email));
  if (fresh.length === 0) return 0;
  const policies = await listPoliciesNeedingAcknowledgement(trx, workspaceId, asOf);
  const courses = await listActiveCourses(trx, workspaceId, asOf);
  let count = 0;
  for (const hire of fresh) {
    const base: OnboardingDetails = {
      subjectKey: '',
      personEmail: hire.email,
      personName: hire.name,
      personId: hire.personId,
      startedAt: hire.startedAt.toISOString(),
      trigger: hire.trigger,
      managerEmail: hire.managerEmail,
    };
    // Deadlines count from the start date, or from the day the hire is first seen if that is later:
    // a hire learned of late (Assay installed after they joined) is not overdue on arrival.
    const seenOn = Math.floor(asOf.getTime() / day) * day;
    const from = Math.max(hire.startedAt.getTime(), seenOn);
    const due = (days: number) => new Date(from + days * day);
    for (const p of policies) {
      if (
        await insertItem(
          trx,
          workspaceId,
          actor,
          policyAckKind,
          `Acknowledge "${p.title}" (${hire.email} joined)`,
          hire.email,
          due(settings.acknowledgementDays),
          {
            ...base,
            subjectKey: `onboard:${hire.email}:policy:${p.id}`,
            policyId: p.id,
            policyTitle: p.title,
            version: p.version,
          },
        )
      )
        count++;
    }
    for (const c of courses) {
      const trainee = {
        email: hire.email,
        name: hire.name,
        department: hire.department,
        title: hire.title,
        startDate: hire.startedAt,
      };
      const view = {
        id: c.id,
        code: c.code,
        title: c.title,
        kind: c.kind,
        frequency: c.frequency,
        dueDays: c.due_days,
        audienceDepartments: c.audience_departments,
        audienceTitles: c.audience_titles,
        active: c.active,
        effectiveFrom: c.effective_from,
      };
      if (!inAudience(view, trainee)) continue;
      if (
        await insertItem(
          trx,
          workspaceId,
          actor,
          trainingKind,
          `Complete training ${c.code} "${c.title}" (${hire.email} joined)`,
          hire.email,
          due(settings.trainingDays),
          {
            ...base,
            subjectKey: `onboard:${hire.email}:training:${c.id}`,
            courseId: c.id,
            courseCode: c.code,
          },
        )
      )
        count++;
    }
    if (
      await insertItem(
        trx,
        workspaceId,
        actor,
        accessRequestKind,
        `Approve the initial access of ${hire.email} (joined ${hire.startedAt.toISOString().slice(0, 10)})`,
        hire.managerEmail,
        due(settings.accessRequestDays),
        { ...base, subjectKey: `onboard:${hire.email}:access` },
      )
    )
      count++;
  }
  return count;
}

type TaskRow = {
  id: string;
  kind: string;
  title: string;
  due_at: Date | null;
  details: unknown;
  finding_id: string | null;
};

async function completeItem(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  task: TaskRow,
  details: OnboardingDetails,
  completion: NonNullable<OnboardingDetails['completion']>,
) {
  const at = new Date(completion.at);
  await completeTaskWithEvidence(trx, workspaceId, actor, task.id, {
    at,
    evidence: {
      kind: 'identity.onboarding_item_completed',
      controls: [],
      criteria: task.kind === policyAckKind ? ['CC2.2', 'CC1.4'] : ['CC1.4', 'CC2.2'],
      subject: { type: 'person', id: details.personId ?? details.personEmail, name: details.personEmail },
      effectiveAt: at,
      collector: { type: 'system', id: 'assay.governance', name: 'Assay identity governance' },
      content: { task: task.id, kind: task.kind, ...details, completion },
    },
    details: { ...details, completion },
    audit: { action: 'governance.onboarding_item_completed', details: { kind: task.kind, ...completion } },
  });
}

/** Closes policy and training items the registers now record as done. */
async function confirmOnboarding(trx: Trx, workspaceId: string, actor: Actor, asOf: Date): Promise<number> {
  const open: TaskRow[] = await listOpenTasks(trx, workspaceId, [policyAckKind, trainingKind]);
  let done = 0;
  for (const task of open) {
    const details = task.details as OnboardingDetails;
    let found: { at: Date; evidence_id: string | null } | undefined;
    if (task.kind === policyAckKind) {
      // The version current at hire, or any later one, counts.
      found = await findPolicyAcknowledgement(trx, workspaceId, {
        policyId: details.policyId ?? null,
        email: details.personEmail,
        minVersion: details.version ?? 1,
        asOf,
      });
    } else {
      found = await findTrainingCompletion(trx, workspaceId, {
        courseId: details.courseId ?? null,
        email: details.personEmail,
        since: new Date(new Date(details.startedAt).getTime() - 365 * day),
        asOf,
      });
    }
    if (!found) continue;
    const at = new Date(found.at);
    await completeItem(trx, workspaceId, actor, task, details, {
      at: at.toISOString(),
      source: task.kind === policyAckKind ? 'policy acknowledgement' : 'training completion',
      withinDeadline: !task.due_at || at <= task.due_at,
      sourceEvidenceId: found.evidence_id,
    });
    done++;
  }
  return done;
}

/**
 * A joiner who left before finishing onboarding owes nothing more: HR ended their employment, or
 * (a directory joiner HR does not know) the directory no longer has an active account for them.
 */
async function cancelForLeavers(trx: Trx, workspaceId: string, facts: Facts, asOf: Date) {
  const left = (await facts.people())
    .filter((p) => p.status === 'terminated')
    .map((p) => p.email.toLowerCase());
  if (left.length > 0) await cancelOpenTasksOfPeople(trx, workspaceId, onboardingKinds, left, asOf);
  await cancelDirectoryTasksWithoutAccount(trx, workspaceId, onboardingKinds, asOf);
}

/** Overdue items are a finding per person; the finding closes when none is left. */
async function flagOverdue(trx: Trx, workspaceId: string, actor: Actor, asOf: Date): Promise<number> {
  const overdue: TaskRow[] = await listOverdueTasks(trx, workspaceId, onboardingKinds, asOf);
  const byPerson = new Map<string, TaskRow[]>();
  for (const t of overdue) {
    const email = (t.details as OnboardingDetails).personEmail;
    byPerson.set(email, [...(byPerson.get(email) ?? []), t]);
  }
  const live = await listLiveFindings(trx, workspaceId, [onboardingCheckId]);
  const liveByKey = new Map(live.map((f) => [f.subject_key, f]));
  const keep = new Set<string>();
  for (const [email, tasks] of byPerson) {
    const first = tasks[0]!.details as OnboardingDetails;
    const key = `person:${email}`;
    keep.add(key);
    const detail = `${tasks.length} onboarding item${tasks.length === 1 ? '' : 's'} past the deadline: ${tasks
      .map((t) => t.title)
      .join('; ')}`.slice(0, 2000);
    let finding = liveByKey.get(key);
    if (!finding) {
      finding = await insertFinding(trx, {
        workspace_id: workspaceId,
        check_id: onboardingCheckId,
        subject_key: key,
        subject: JSON.stringify({ type: 'person', id: email, name: first.personName ?? email, email }),
        control_ids: [],
        criteria: ['CC1.4', 'CC2.2', 'CC6.2'],
        severity: 'medium',
        status: 'open',
        detail,
        opened_at: asOf,
        closed_at: null,
        deadline: new Date(asOf.getTime() + 7 * day),
        owner: first.managerEmail,
        closing_evidence_id: null,
        exception_id: null,
        evidence_ids: [],
      });
      await recordAudit(trx, {
        workspaceId,
        actor,
        action: 'governance.onboarding_overdue',
        targetType: 'finding',
        targetId: finding.id,
        details: { person: email, items: tasks.map((t) => t.id) },
      });
    } else if (finding.detail !== detail) {
      await updateFinding(trx, workspaceId, finding.id, { detail });
    }
    const unlinked = tasks.filter((t) => t.finding_id !== finding.id).map((t) => t.id);
    if (unlinked.length > 0) await linkTasksToFinding(trx, workspaceId, unlinked, finding.id);
  }
  for (const finding of live) {
    if (keep.has(finding.subject_key)) continue;
    await updateFinding(trx, workspaceId, finding.id, {
      status: 'closed',
      closed_at: asOf,
      detail: 'resolved: every overdue onboarding item is done',
    });
  }
  return overdue.length;
}

export async function reconcileJoiners(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  asOf: Date,
  facts: Facts,
  settings: GovernanceSettings,
): Promise<JoinerSummary> {
  const hires = await findHires(facts, settings);
  const onboardingOpened = await openOnboarding(trx, workspaceId, actor, hires, settings, asOf);
  const onboardingCompleted = await confirmOnboarding(trx, workspaceId, actor, asOf);
  await cancelForLeavers(trx, workspaceId, facts, asOf);
  const onboardingOverdue = await flagOverdue(trx, workspaceId, actor, asOf);
  return { onboardingOpened, onboardingCompleted, onboardingOverdue };
}

function bad(field: string, message: string): never {
  throw new AssayError('validation_failed', `${field}: ${message}`, { field });
}

export interface ApproveInput {
  approver: string;
  justification: string;
  /** The initial access approved, e.g. `scim:okta/Engineering`. */
  entitlements?: string[] | undefined;
}

/** Approves a joiner's initial access request: the approval is the evidence. */
export async function approveAccessRequest(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  taskId: string,
  input: ApproveInput,
) {
  if (typeof input.approver !== 'string' || !emailPattern.test(input.approver)) {
    bad('approver', 'an email address (who approves the access)');
  }
  if (typeof input.justification !== 'string' || input.justification.trim().length < 3) {
    bad('justification', 'required: say why this access is needed (at least 3 characters)');
  }
  const entitlements = input.entitlements ?? [];
  if (!Array.isArray(entitlements) || entitlements.some((e) => typeof e !== 'string' || e.trim() === '')) {
    bad('entitlements', 'a list of non-empty names');
  }
  if (typeof taskId !== 'string' || !uuidPattern.test(taskId)) bad('task', `"${taskId}" is not a task id`);
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const task = await findTaskOfKind(trx, workspace.id, taskId, accessRequestKind);
    if (!task) {
      throw new AssayError(
        'task_not_found',
        `access request "${taskId}" does not exist in "${workspace.slug}"`,
      );
    }
    if (task.status !== 'open') {
      throw new AssayError('task_state_invalid', `access request "${taskId}" is already ${task.status}`);
    }
    const details = task.details as unknown as OnboardingDetails;
    const approver = input.approver.toLowerCase();
    if (approver === details.personEmail) bad('approver', 'a joiner cannot approve their own access');
    const at = new Date();
    // When the joiner's first account appeared: approval should come first.
    const firstAccountAt = await findFirstAccountAt(trx, workspace.id, details.personEmail);
    const approval = {
      approver,
      justification: input.justification.trim(),
      entitlements: entitlements.map((e) => e.trim()),
      at: at.toISOString(),
      withinDeadline: !task.due_at || at <= task.due_at,
    };
    const { task: updated } = await completeTaskWithEvidence(trx, workspace.id, actor, task.id, {
      at,
      evidence: {
        kind: 'identity.access_request_approved',
        controls: [],
        criteria: ['CC6.1', 'CC6.2'],
        subject: { type: 'person', id: details.personId ?? details.personEmail, name: details.personEmail },
        effectiveAt: at,
        collector: { type: 'user', id: actor.id, name: approver },
        content: {
          task: task.id,
          ...details,
          approval,
          firstAccountAt: firstAccountAt?.toISOString() ?? null,
          approvedBeforeAccess: firstAccountAt === null || at <= firstAccountAt,
        },
      },
      details: { ...details, approval },
      audit: { action: 'governance.access_request_approved', details: { ...approval } },
    });
    return updated;
  });
}

export interface OnboardingFilter {
  person?: string | undefined;
  status?: 'open' | 'complete' | 'overdue' | 'cancelled' | undefined;
}

/** Each joiner's onboarding set with its progress. */
export async function listOnboarding(
  database: Database,
  workspaceRef: string,
  filter: OnboardingFilter = {},
) {
  if (filter.person !== undefined && !emailPattern.test(filter.person)) bad('person', 'an email address');
  if (filter.status !== undefined && !['open', 'complete', 'overdue', 'cancelled'].includes(filter.status)) {
    bad('status', 'open, overdue, complete or cancelled');
  }
  const workspace = await getWorkspace(database, workspaceRef);
  const asOf = new Date();
  const tasks = await database.inWorkspace(workspace.id, (trx) =>
    listTasksOfKinds(trx, workspace.id, onboardingKinds, { personEmail: filter.person?.toLowerCase() }),
  );
  const byPerson = new Map<string, typeof tasks>();
  for (const t of tasks) {
    const email = (t.details as unknown as OnboardingDetails).personEmail;
    byPerson.set(email, [...(byPerson.get(email) ?? []), t]);
  }
  const people = [...byPerson.entries()].map(([email, items]) => {
    const d = items[0]!.details as unknown as OnboardingDetails;
    const open = items.filter((i) => i.status === 'open');
    const overdue = open.filter((i) => i.due_at && i.due_at <= asOf);
    return {
      person: email,
      name: d.personName,
      startedAt: d.startedAt,
      trigger: d.trigger,
      manager: d.managerEmail,
      status:
        overdue.length > 0
          ? ('overdue' as const)
          : open.length > 0
            ? ('open' as const)
            : items.every((i) => i.status === 'cancelled')
              ? ('cancelled' as const)
              : ('complete' as const),
      items,
    };
  });
  return people
    .filter((p) => !filter.status || p.status === filter.status)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.person.localeCompare(b.person));
}
