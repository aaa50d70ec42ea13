/**
 * A control's status timeline: the intervals [from, to) of passing, failing, at risk or no data
 * that evaluations recorded, the raw material of a Type II period. Optionally clipped to a window.
 */
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { findControl } from '../controls/controls.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  listControlIntervals,
  listFirstIntervalStarts,
  listIntervalsSince,
} from './monitoring.repository.ts';

function instant(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new AssayError('validation_failed', `${field} "${value}": expected an ISO date or date-time`, {
      field,
    });
  }
  return date;
}

export async function controlTimeline(
  database: Database,
  workspaceRef: string,
  controlRef: string,
  window: { from?: string | undefined; to?: string | undefined } = {},
) {
  const from = instant(window.from, 'from');
  const to = instant(window.to, 'to');
  if (from && to && from >= to) {
    throw new AssayError('validation_failed', 'from: must be before to', { field: 'from' });
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const control = await findControl(trx, workspace.id, controlRef);
    if (!control) {
      throw new AssayError(
        'control_not_found',
        `control "${controlRef}" does not exist in "${workspace.slug}"`,
      );
    }
    const rows = await listControlIntervals(trx, workspace.id, control.id);
    const intervals = rows
      .filter((r) => (!to || r.valid_from < to) && (!from || r.valid_to === null || r.valid_to > from))
      .map((r) => ({
        status: r.status,
        from: (from && r.valid_from < from ? from : r.valid_from).toISOString(),
        to:
          r.valid_to === null
            ? to
              ? to.toISOString()
              : null
            : (to && r.valid_to > to ? to : r.valid_to).toISOString(),
        reason: r.reason,
        runId: r.run_id,
      }));
    return {
      control: {
        id: control.id,
        templateId: control.template_id,
        title: control.title,
        status: control.status,
      },
      intervals,
    };
  });
}

/**
 * Drift: every change of a control's status since an instant (default 30 days ago), newest first,
 * each with the status it changed to and why. A control's first recorded status is not drift.
 */
export async function workspaceDrift(
  database: Database,
  workspaceRef: string,
  sinceText: string | undefined,
) {
  const since = instant(sinceText, 'since') ?? new Date(Date.now() - 30 * 86_400_000);
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const rows = await listIntervalsSince(trx, workspace.id, since);
    const firstOf = new Map(
      (await listFirstIntervalStarts(trx, workspace.id)).map((f) => [
        f.control_id,
        new Date(f.first).getTime(),
      ]),
    );
    return {
      since: since.toISOString(),
      changes: rows
        .filter((r) => firstOf.get(r.control_id) !== r.valid_from.getTime())
        .map((r) => ({
          control: r.template_id,
          title: r.title,
          status: r.status,
          at: r.valid_from.toISOString(),
          reason: r.reason,
        })),
    };
  });
}
