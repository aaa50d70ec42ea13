/**
 * What an auditor may see: an auditor's membership is limited to one audit period (and expires;
 * the access hook refuses a lapsed membership). Audit routes check that the period asked for lies
 * within the auditor's, and record every read an auditor makes in the audit trail.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { callerActor } from '../accounts/caller.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { ResolvedPeriod } from './periods.service.ts';

/** The auditor's period, when the caller is an auditor and nothing more in this workspace. */
export function auditorPeriod(request: FastifyRequest): { start: string; end: string } | null {
  return request.grant?.auditPeriod ?? null;
}

/** Refuses (403) a period that reaches outside the auditor's. */
export function assertWithinAuditorPeriod(request: FastifyRequest, period: ResolvedPeriod): void {
  const allowed = auditorPeriod(request);
  if (allowed === null) return;
  if (period.firstDay < allowed.start || period.lastDay > allowed.end) {
    throw new AssayError(
      'forbidden',
      `your auditor access covers ${allowed.start}..${allowed.end}; ${period.label} (${period.firstDay}..${period.lastDay}) reaches outside it`,
    );
  }
}

/** Every read by an auditor is recorded: who, what, which period. */
export async function logAuditorAccess(
  database: Database,
  request: FastifyRequest,
  what: string,
  details: Record<string, unknown>,
): Promise<void> {
  const grant = request.grant;
  if (!grant || !request.caller || !grant.roles.includes('auditor')) return;
  await database.inWorkspace(grant.workspace.id, (trx) =>
    recordAudit(trx, {
      workspaceId: grant.workspace.id,
      actor: callerActor(request.caller!),
      action: `auditor.${what}`,
      targetType: 'workspace',
      targetId: grant.workspace.id,
      details: {
        ...details,
        route: `${request.method} ${request.routeOptions.url}`,
        auditPeriod: grant.auditPeriod,
      },
    }),
  );
}
