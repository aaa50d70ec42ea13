/**
 * What each kind of job does. The worker role runs these; the CLI runs `evaluate_checks` inline.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { sealAuditTrail } from '../domains/audit/seal-audit-trail.ts';
import { pullConnectorKind, runPullConnectorJob } from '../domains/connectors/pull.job.ts';
import { createCheckpoint } from '../domains/evidence/checkpoints.ts';
import { reconcileGovernance } from '../domains/governance/jml.service.ts';
import { builtInChecks } from '../domains/monitoring/checks/index.ts';
import { runChecks } from '../domains/monitoring/run-checks.service.ts';
import {
  sendChannelNotifications,
  sendNotificationKind,
  sweepNotifications,
} from '../domains/notifications/notify.service.ts';
import type { SecretBox } from '../domains/secrets/secrets.ts';
import { evaluateChecksKind, runEvaluation, scheduledChecksKind, workerActor } from './evaluation.ts';
import type { JobHandlers } from './worker.ts';

export const ledgerCheckpointKind = 'ledger_checkpoint';
export const auditSealKind = 'seal_audit_trail';

export interface HandlerDeps {
  database: Database;
  config: Pick<Config, 'smtpUrl' | 'smtpFrom'>;
  secrets: SecretBox;
  log?: ((line: string) => void) | undefined;
}

/** The checks re-evaluated on a schedule, because time alone can make them fail (ages, deadlines). */
export function scheduledCheckIds(schedule: string): string[] {
  return builtInChecks.filter((c) => c.triggers.schedule === schedule).map((c) => c.id);
}

export function jobHandlers(deps: HandlerDeps): JobHandlers {
  const { database } = deps;
  return {
    [evaluateChecksKind]: async ({ job }) => {
      await runEvaluation(database, job.workspaceId, job.payload);
    },
    [scheduledChecksKind]: async ({ job }) => {
      const schedule = String(job.payload.schedule ?? '');
      const checkIds = scheduledCheckIds(schedule);
      if (checkIds.length > 0) {
        await runChecks(database, workerActor, job.workspaceId, {
          checkIds,
          trigger: `schedule:${schedule}`,
        });
      }
      // Deprovisioning deadlines pass, and complete reports confirm removals, with time alone.
      await reconcileGovernance(database, job.workspaceId, workerActor);
      // Exceptions expire with time too: the scheduled sweep looks for them.
      await sweepNotifications(database, job.workspaceId, { exceptions: true });
    },
    [sendNotificationKind]: async ({ job, lastAttempt }) => {
      const channelId = job.payload.channelId;
      if (typeof channelId !== 'string') throw new Error('send_notification: payload.channelId is missing');
      await sendChannelNotifications(
        { database, secrets: deps.secrets, mail: deps.config },
        job.workspaceId,
        channelId,
        job.id,
        lastAttempt,
      );
    },
    [ledgerCheckpointKind]: async ({ job }) => {
      await createCheckpoint(database, job.workspaceId);
    },
    [auditSealKind]: async ({ job }) => {
      await sealAuditTrail(database, job.workspaceId);
    },
    [pullConnectorKind]: async ({ job }) => {
      await runPullConnectorJob({ database, secrets: deps.secrets }, job);
    },
  };
}
