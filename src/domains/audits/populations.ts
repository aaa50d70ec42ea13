/**
 * Type II populations: for each control and audit period, the occurrences the control should
 * have operated — each quarter's review, each day's monitoring, each termination, each merged
 * change — and whether each operated on time, late, not at all, failed, or was covered by an
 * exception, with the evidence behind it. Auditors sample from these populations.
 */
import type { Trx } from '../../db/database.ts';
import { listControlRows } from '../controls/controls.repository.ts';
import { builtInChecks } from '../monitoring/checks/index.ts';
import { Facts } from '../monitoring/facts.ts';
import type { ControlFrequency } from './forecast.ts';
import {
  type CodeChangeRow,
  selectCodeChanges,
  selectEvidenceForControls,
  selectExceptionsOverlapping,
  selectLeaverAccounts,
  selectStatusIntervals,
} from './populations.repository.ts';

export type OccurrenceStatus = 'operated' | 'late' | 'missing' | 'failed' | 'exception';

export interface Occurrence {
  id: string;
  label: string;
  /** When the control was due to operate: [start, due). */
  start: string;
  due: string;
  status: OccurrenceStatus;
  detail: string;
  evidenceIds: string[];
  eventIds: number[];
}

export type PopulationKind = 'periodic' | 'monitoring' | 'event';

export interface Population {
  controlId: string;
  templateId: string;
  title: string;
  frequency: ControlFrequency;
  criteria: string[];
  kind: PopulationKind;
  /** What one occurrence is: `quarter`, `day of monitoring`, `termination`, `merged change`… */
  unit: string;
  occurrences: Occurrence[];
}

export const deviationStatuses: ReadonlySet<OccurrenceStatus> = new Set(['late', 'missing', 'failed']);

const day = 24 * 3600 * 1000;

/** Days of grace after a window closes before evidence counts as missing rather than late. */
const graceDays: Record<string, number> = { annual: 60, quarterly: 30, monthly: 10, weekly: 3, daily: 1 };

export interface PeriodWindow {
  /** Inclusive first day, 00:00 UTC. */
  from: Date;
  /** Exclusive: the day after the last day. */
  to: Date;
}

function utcDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

/** The calendar windows of a frequency that intersect the period, clipped to it. */
export function frequencyWindows(
  frequency: 'annual' | 'quarterly' | 'monthly' | 'weekly' | 'daily',
  period: PeriodWindow,
) {
  const windows: { id: string; start: Date; end: Date }[] = [];
  let cursor = utcDay(period.from);
  while (cursor < period.to) {
    const y = cursor.getUTCFullYear();
    const m = cursor.getUTCMonth();
    let start: Date;
    let end: Date;
    let id: string;
    switch (frequency) {
      case 'annual':
        start = new Date(Date.UTC(y, 0, 1));
        end = new Date(Date.UTC(y + 1, 0, 1));
        id = `${y}`;
        break;
      case 'quarterly': {
        const q = Math.floor(m / 3);
        start = new Date(Date.UTC(y, q * 3, 1));
        end = new Date(Date.UTC(y, q * 3 + 3, 1));
        id = `${y}-Q${q + 1}`;
        break;
      }
      case 'monthly':
        start = new Date(Date.UTC(y, m, 1));
        end = new Date(Date.UTC(y, m + 1, 1));
        id = `${y}-${String(m + 1).padStart(2, '0')}`;
        break;
      case 'weekly': {
        // ISO weeks start on Monday.
        const weekday = (cursor.getUTCDay() + 6) % 7;
        start = new Date(cursor.getTime() - weekday * day);
        end = new Date(start.getTime() + 7 * day);
        id = `week of ${start.toISOString().slice(0, 10)}`;
        break;
      }
      case 'daily':
        start = cursor;
        end = new Date(cursor.getTime() + day);
        id = cursor.toISOString().slice(0, 10);
        break;
    }
    windows.push({
      id,
      start: start < period.from ? period.from : start,
      end: end > period.to ? period.to : end,
    });
    cursor = end;
  }
  return windows;
}

/** Controls whose population is a set of events rather than a calendar. */
const eventPopulations: Record<
  string,
  { unit: string; source: 'terminations' | 'merges' | 'code_changes' | 'privileged_grants' }
> = {
  'AC-04': { unit: 'termination', source: 'terminations' },
  'CHG-01': { unit: 'merged change', source: 'merges' },
  'CHG-02': { unit: 'change to a protected branch', source: 'code_changes' },
  'AC-03': { unit: 'privileged grant', source: 'privileged_grants' },
};

export interface PopulationOptions {
  /** Hours allowed to disable a leaver's accounts. */
  deprovisioningSlaHours: number;
  /** The instant populations are judged at (default: now); occurrences due later are not judged yet. */
  now?: Date;
  /** Only these controls (template ids), e.g. a period's frozen scope; default: every active control. */
  controls?: ReadonlySet<string> | undefined;
}

export async function computePopulations(
  trx: Trx,
  workspaceId: string,
  period: PeriodWindow,
  options: PopulationOptions,
): Promise<Population[]> {
  const now = options.now ?? new Date();
  const judgedUntil = period.to < now ? period.to : now;
  const scope = options.controls;
  const controls = (await listControlRows(trx, workspaceId)).filter(
    (c) => scope === undefined || scope.has(c.template_id),
  );
  const maxGrace = Math.max(...Object.values(graceDays)) * day;
  const [evidence, intervals, exceptions] = await Promise.all([
    selectEvidenceForControls(trx, workspaceId, period.from, new Date(period.to.getTime() + maxGrace)),
    selectStatusIntervals(trx, workspaceId, period.from, period.to),
    selectExceptionsOverlapping(trx, workspaceId, period.from, period.to),
  ]);
  // Each control's status intervals and evidence, grouped once rather than searched per window.
  const intervalsOf = new Map<string, typeof intervals>();
  for (const i of intervals) {
    const list = intervalsOf.get(i.control_id);
    if (list) list.push(i);
    else intervalsOf.set(i.control_id, [i]);
  }
  const facts = new Facts(trx, workspaceId, judgedUntil);
  // Read once for both change populations (merges and changes to protected branches).
  let codeChanges: Promise<CodeChangeRow[]> | undefined;
  const loadCodeChanges = () => {
    codeChanges ??= selectCodeChanges(trx, workspaceId, period.from, period.to, judgedUntil);
    return codeChanges;
  };
  const implementedChecks = new Set(builtInChecks.map((c) => c.id));
  const checksOf = (control: (typeof controls)[number]) =>
    builtInChecks
      .filter((c) => control.checks.includes(c.id) || (c.controls ?? []).includes(control.template_id))
      .map((c) => c.id)
      .filter((id) => implementedChecks.has(id));

  const populations: Population[] = [];
  for (const control of controls) {
    const frequency = control.frequency as ControlFrequency;
    const base = {
      controlId: control.id,
      templateId: control.template_id,
      title: control.title,
      frequency,
      criteria: control.criteria,
    };
    const controlEvidence = evidence.filter(
      (e) => e.control_ids.includes(control.template_id) && e.kind !== 'check.result',
    );
    const eventSource = eventPopulations[control.template_id];
    if (eventSource) {
      populations.push({
        ...base,
        kind: 'event',
        unit: eventSource.unit,
        occurrences: await eventOccurrences(
          eventSource.source,
          trx,
          workspaceId,
          loadCodeChanges,
          facts,
          period,
          judgedUntil,
          options,
        ),
      });
      continue;
    }
    const checks = checksOf(control);
    if (
      checks.length > 0 &&
      (frequency === 'continuous' || frequency === 'daily' || frequency === 'event_driven')
    ) {
      populations.push({
        ...base,
        kind: 'monitoring',
        unit: 'day of monitoring',
        occurrences: monitoringOccurrences(intervalsOf.get(control.id) ?? [], period, judgedUntil),
      });
      continue;
    }
    if (frequency === 'continuous' || frequency === 'event_driven') {
      // A manual control that operates on events: each piece of evidence is an occurrence.
      const inPeriod = controlEvidence.filter(
        (e) => e.effective_at >= period.from && e.effective_at < period.to,
      );
      populations.push({
        ...base,
        kind: 'event',
        unit: 'recorded operation',
        occurrences:
          inPeriod.length > 0
            ? inPeriod.map((e) => ({
                id: e.id,
                label: `${e.kind} ${e.effective_at.toISOString().slice(0, 10)}`,
                start: e.effective_at.toISOString(),
                due: e.effective_at.toISOString(),
                status: 'operated' as const,
                detail: e.kind,
                evidenceIds: [e.id],
                eventIds: [],
              }))
            : [
                {
                  id: 'period',
                  label: 'the period',
                  start: period.from.toISOString(),
                  due: period.to.toISOString(),
                  status: 'missing' as const,
                  detail: 'no evidence that the control operated during the period',
                  evidenceIds: [],
                  eventIds: [],
                },
              ],
      });
      continue;
    }
    const controlExceptions = exceptions.filter((x) => checks.includes(x.check_id) && x.revoked_at === null);
    populations.push({
      ...base,
      kind: 'periodic',
      unit:
        frequency === 'daily'
          ? 'day'
          : frequency.replace(/ly$/, '').replace('dai', 'day').replace('annual', 'year'),
      occurrences: frequencyWindows(frequency, period)
        .filter((w) => w.start < judgedUntil)
        .map((w) => {
          const manual = periodicOccurrence(frequency, w, controlEvidence, controlExceptions, now);
          // An automated periodic control also operates through its checks: the window counts as
          // operated when monitoring judged it passing, failed when it was failing throughout.
          if (checks.length === 0 || manual.status === 'operated' || manual.status === 'late') return manual;
          const overlapping = (intervalsOf.get(control.id) ?? []).filter(
            (i) => i.valid_from < w.end && (i.valid_to === null || i.valid_to > w.start),
          );
          if (overlapping.some((i) => i.status === 'passing' || i.status === 'at_risk')) {
            return { ...manual, status: 'operated' as const, detail: 'monitored and passing' };
          }
          if (overlapping.some((i) => i.status === 'failing')) {
            return { ...manual, status: 'failed' as const, detail: 'the control was failing' };
          }
          return manual;
        }),
    });
  }
  return populations;
}

function periodicOccurrence(
  frequency: 'annual' | 'quarterly' | 'monthly' | 'weekly' | 'daily',
  window: { id: string; start: Date; end: Date },
  evidence: { id: string; kind: string; effective_at: Date }[],
  exceptions: { id: string; approved_at: Date; expires_at: Date }[],
  now: Date,
): Occurrence {
  const grace = (graceDays[frequency] ?? 0) * day;
  const onTime = evidence.filter((e) => e.effective_at >= window.start && e.effective_at < window.end);
  const late = evidence.filter(
    (e) => e.effective_at >= window.end && e.effective_at < new Date(window.end.getTime() + grace),
  );
  const base = {
    id: window.id,
    label: window.id,
    start: window.start.toISOString(),
    due: window.end.toISOString(),
    eventIds: [],
  };
  if (onTime.length > 0) {
    return {
      ...base,
      status: 'operated',
      detail: `${onTime.length} evidence items`,
      evidenceIds: onTime.map((e) => e.id),
    };
  }
  if (late.length > 0) {
    const days = Math.ceil((late[0]!.effective_at.getTime() - window.end.getTime()) / day);
    return {
      ...base,
      status: 'late',
      detail: `evidence ${days} days after the window closed`,
      evidenceIds: late.map((e) => e.id),
    };
  }
  const exception = exceptions.find((x) => x.approved_at < window.end && x.expires_at > window.start);
  if (exception) {
    return { ...base, status: 'exception', detail: `covered by exception ${exception.id}`, evidenceIds: [] };
  }
  if (window.end.getTime() + grace > now.getTime()) {
    return { ...base, status: 'operated', detail: 'not yet due', evidenceIds: [] };
  }
  return { ...base, status: 'missing', detail: 'no evidence that the control operated', evidenceIds: [] };
}

/** Each day of the period: did the control's monitoring run and pass? Gaps (no data) count as missing. */
function monitoringOccurrences(
  mine: { control_id: string; status: string; valid_from: Date; valid_to: Date | null }[],
  period: PeriodWindow,
  judgedUntil: Date,
): Occurrence[] {
  return frequencyWindows('daily', {
    from: period.from,
    to: judgedUntil > period.from ? judgedUntil : period.from,
  }).map((w) => {
    const overlapping = mine.filter(
      (i) => i.valid_from < w.end && (i.valid_to === null || i.valid_to > w.start),
    );
    let status: OccurrenceStatus = 'missing';
    let detail = 'no monitoring data for the day';
    if (overlapping.some((i) => i.status === 'failing')) {
      status = 'failed';
      detail = 'the control was failing';
    } else if (overlapping.some((i) => i.status === 'passing' || i.status === 'at_risk')) {
      status = 'operated';
      detail = 'monitored and passing';
    }
    return {
      id: w.id,
      label: w.id,
      start: w.start.toISOString(),
      due: w.end.toISOString(),
      status,
      detail,
      evidenceIds: [],
      eventIds: [],
    };
  });
}

async function eventOccurrences(
  source: 'terminations' | 'merges' | 'code_changes' | 'privileged_grants',
  trx: Trx,
  workspaceId: string,
  loadCodeChanges: () => Promise<CodeChangeRow[]>,
  facts: Facts,
  period: PeriodWindow,
  judgedUntil: Date,
  options: PopulationOptions,
): Promise<Occurrence[]> {
  const inPeriod = (d: Date) => d >= period.from && d < period.to;
  if (source === 'terminations') {
    const leavers = (await facts.people()).filter((p) => p.terminatedAt && inPeriod(p.terminatedAt));
    // Only the leavers' accounts are read, with their status as the checks judge it (see
    // selectLeaverAccounts): the latest of the account's snapshot and lifecycle events.
    const accountsOf = new Map<string, { system: string; status: string; statusSince: Date | null }[]>();
    for (const row of await selectLeaverAccounts(
      trx,
      workspaceId,
      leavers.map((p) => p.id),
      facts.asOf,
    )) {
      let status = 'active';
      let statusSince: Date | null = null;
      const snapshotAt = row.snapshot_at;
      const eventAt = row.event_at;
      if (snapshotAt && (!eventAt || eventAt <= snapshotAt)) {
        status = row.snapshot_status!;
        statusSince = snapshotAt;
      }
      if (eventAt && (!snapshotAt || eventAt > snapshotAt)) {
        status = row.event_status!;
        statusSince = eventAt;
      }
      const list = accountsOf.get(row.person_id);
      const account = { system: row.system, status, statusSince };
      if (list) list.push(account);
      else accountsOf.set(row.person_id, [account]);
    }
    return leavers.map((p) => {
      const deadline = new Date(p.terminatedAt!.getTime() + options.deprovisioningSlaHours * 3600 * 1000);
      const accounts = accountsOf.get(p.id) ?? [];
      const stillActive = accounts.filter((a) => a.status === 'active');
      const revokedAt = accounts
        .filter((a) => a.status !== 'active' && a.statusSince)
        .map((a) => a.statusSince!.getTime());
      const lastRevoke = revokedAt.length > 0 ? new Date(Math.max(...revokedAt)) : null;
      const base = {
        id: `termination:${p.id}`,
        label: `${p.email} left ${p.terminatedAt!.toISOString().slice(0, 10)}`,
        start: p.terminatedAt!.toISOString(),
        due: deadline.toISOString(),
        evidenceIds: [],
        eventIds: [],
      };
      if (stillActive.length > 0) {
        return deadline > judgedUntil
          ? { ...base, status: 'operated' as const, detail: 'deprovisioning not yet due' }
          : {
              ...base,
              status: 'missing' as const,
              detail: `${stillActive.length} accounts still active (${stillActive.map((a) => a.system).join(', ')})`,
            };
      }
      if (lastRevoke && lastRevoke > deadline) {
        const hours = Math.round((lastRevoke.getTime() - p.terminatedAt!.getTime()) / 3600000);
        return {
          ...base,
          status: 'late' as const,
          detail: `access removed after ${hours} hours (deadline ${options.deprovisioningSlaHours})`,
        };
      }
      return {
        ...base,
        status: 'operated' as const,
        detail: `${accounts.length} accounts removed within the deadline`,
      };
    });
  }
  if (source === 'privileged_grants') {
    const grants = (await facts.grants()).filter((g) => g.privileged && inPeriod(g.grantedAt));
    return grants.map((g) => ({
      id: `grant:${g.identityId}:${g.name}:${g.grantedAt.toISOString()}`,
      label: `${g.name} on ${g.system} ${g.grantedAt.toISOString().slice(0, 10)}`,
      start: g.grantedAt.toISOString(),
      due: g.grantedAt.toISOString(),
      status: 'failed' as const,
      detail: 'no approved access request',
      evidenceIds: [],
      eventIds: g.eventId ? [g.eventId] : [],
    }));
  }
  const events = await loadCodeChanges();
  if (source === 'code_changes') {
    return events.map((e) => ({
      id: `change:${e.id}`,
      label: `${e.repository_label} ${e.change} ${e.time.toISOString().slice(0, 10)}`,
      start: e.time.toISOString(),
      due: e.time.toISOString(),
      status: e.bypass ? ('failed' as const) : ('operated' as const),
      detail: e.bypass ? 'bypassed branch protection' : 'through protection',
      evidenceIds: [],
      eventIds: [e.id],
    }));
  }
  // Merges: whether each was independently approved is decided in the query.
  return events
    .filter((e) => e.change === 'pull_request_merged')
    .map((m) => ({
      id: `merge:${m.id}`,
      label: `${m.repository}#${m.pull_request ?? '?'}`,
      start: m.time.toISOString(),
      due: m.time.toISOString(),
      status: m.approved ? ('operated' as const) : ('failed' as const),
      detail: m.approved ? 'independently approved' : 'merged without an independent approval',
      evidenceIds: [],
      eventIds: [m.id],
    }));
}
