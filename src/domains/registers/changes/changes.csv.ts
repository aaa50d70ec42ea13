/** The CSV form of the change register: manual change records (see docs/registers.md). */
import { type CsvKind, cell, type Input, result } from '../shared/csv.ts';
import { findChange, listChangeRows } from './changes.repository.ts';
import { changeChecks, changeContent, normalizeChange, upsertChangeIn } from './changes.service.ts';

export const changes: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeChange> }> = {
  kind: 'changes',
  register: 'changes',
  description: 'Manual change records.',
  checks: changeChecks,
  columns: [
    { header: 'ticket', required: true, description: 'Ticket reference (the key).' },
    { header: 'title', required: 'new', description: 'The change.' },
    { header: 'description', description: 'Details, risk and rollback.' },
    { header: 'system', description: 'The system changed.' },
    { header: 'emergency', description: 'true for an emergency change (approved retroactively).' },
    { header: 'author', required: 'new', description: 'Who made the change.' },
    { header: 'approver', description: 'Who approved it (must not be the author).' },
    { header: 'approved_at', description: 'When.' },
    { header: 'tester', description: 'Who tested it.' },
    { header: 'tested_at', description: 'When.' },
    { header: 'implemented_at', description: 'When it went live.' },
    {
      header: 'status',
      description: 'planned, approved, implemented, rolled_back or cancelled (default from the times given).',
    },
  ],
  async rows(trx, ctx) {
    return (await listChangeRows(trx, ctx.workspaceId)).map((c) => {
      const v = changeContent(c);
      return {
        ticket: v.ticket,
        title: v.title,
        description: v.description,
        system: v.system,
        emergency: cell.bool(v.emergency),
        author: v.author,
        approver: cell.text(v.approver),
        approved_at: cell.date(c.approved_at),
        tester: cell.text(v.tester),
        tested_at: cell.date(c.tested_at),
        implemented_at: cell.date(c.implemented_at),
        status: v.status,
      };
    });
  },
  parse: (raw) => ({ raw, values: normalizeChange(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findChange(trx, ctx.workspaceId, values.ticket!);
    return result(
      await upsertChangeIn(trx, ctx, existing ? values : normalizeChange(raw, 'create'), 'upsert'),
    );
  },
};
