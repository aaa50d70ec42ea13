/**
 * Segregation of duties for manual changes (CC8.1): a change is approved by someone other than
 * its author, before it is implemented — or, for an emergency, within a few days after.
 */
import { addDays } from '../shared/values.ts';
import type { ChangeRow } from './changes.repository.ts';

export interface SegregationSettings {
  emergencyApprovalDays: number;
}

export interface Violation {
  ticket: string;
  reason: string;
  /** When the deviation began. */
  since: Date;
}

const same = (a: string | null, b: string | null) =>
  a !== null && b !== null && a.trim().toLowerCase() === b.trim().toLowerCase();

export function violations(change: ChangeRow, asOf: Date, settings: SegregationSettings): Violation[] {
  if (!change.implemented_at || change.implemented_at > asOf) return [];
  if (change.status !== 'implemented' && change.status !== 'rolled_back') return [];
  const implemented = change.implemented_at;
  const approvedAt = change.approved_at && change.approved_at <= asOf ? change.approved_at : null;
  const approver = approvedAt ? change.approver : null;
  const out: Violation[] = [];
  const deadline = addDays(implemented, settings.emergencyApprovalDays);
  if (!approver) {
    if (!change.emergency)
      out.push({ ticket: change.ticket, reason: 'implemented without an approval', since: implemented });
    else if (asOf > deadline) {
      out.push({
        ticket: change.ticket,
        reason: `emergency change without a retroactive approval within ${settings.emergencyApprovalDays} days`,
        since: deadline,
      });
    }
    return out;
  }
  if (same(approver, change.author)) {
    out.push({
      ticket: change.ticket,
      reason: `approved by its own author (${change.author})`,
      since: approvedAt!,
    });
  }
  if (!change.emergency && approvedAt! > implemented) {
    out.push({
      ticket: change.ticket,
      reason: 'approved only after it was implemented (not an emergency)',
      since: implemented,
    });
  }
  if (change.emergency && approvedAt! > deadline) {
    out.push({
      ticket: change.ticket,
      reason: `emergency change approved ${Math.ceil((approvedAt!.getTime() - implemented.getTime()) / 86_400_000)} days after implementation (allowed ${settings.emergencyApprovalDays})`,
      since: deadline,
    });
  }
  return out;
}
