/**
 * The workspace's identity governance deadlines: how long a joiner has for each onboarding item,
 * how far back a hire still counts as joining, and how long a mover review runs. Defaults apply
 * until a workspace sets its own; the leaver deadline stays with its check
 * (`identity.leaver_access_removed`, `deadlineHours`).
 */
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { findGovernanceSettings, saveGovernanceSettings } from './jml.repository.ts';

export interface GovernanceSettings {
  /** A hire (HR start date, or a directory account created) this many days ago still joins. */
  joinerLookbackDays: number;
  /** Days from the start date to acknowledge each published policy that needs it. */
  acknowledgementDays: number;
  /** Days from the start date to complete each security training course in the joiner's audience. */
  trainingDays: number;
  /** Days from the start date to have the initial access request approved. */
  accessRequestDays: number;
  /** Days the new manager has to decide a mover review. */
  moverReviewDays: number;
  /** Reviewer of a mover review when HR names no manager (otherwise the move is only recorded). */
  moverFallbackReviewer: string | null;
}

export const defaultGovernanceSettings: GovernanceSettings = {
  joinerLookbackDays: 30,
  acknowledgementDays: 30,
  trainingDays: 30,
  accessRequestDays: 7,
  moverReviewDays: 14,
  moverFallbackReviewer: null,
};

const dayFields = [
  'joinerLookbackDays',
  'acknowledgementDays',
  'trainingDays',
  'accessRequestDays',
  'moverReviewDays',
] as const;

/** Validates a partial update; every problem names its field. */
export function normalizeSettings(input: Record<string, unknown>): Partial<GovernanceSettings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AssayError('validation_failed', 'settings: an object', { field: 'settings' });
  }
  const out: Partial<GovernanceSettings> = {};
  for (const [key, value] of Object.entries(input)) {
    if ((dayFields as readonly string[]).includes(key)) {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 365) {
        throw new AssayError('validation_failed', `${key}: a whole number of days from 0 to 365`, {
          field: key,
        });
      }
      out[key as (typeof dayFields)[number]] = n;
    } else if (key === 'moverFallbackReviewer') {
      if (value !== null && value !== '' && (typeof value !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(value))) {
        throw new AssayError('validation_failed', 'moverFallbackReviewer: an email address (or null)', {
          field: key,
        });
      }
      out.moverFallbackReviewer = value === '' || value === null ? null : String(value).toLowerCase();
    } else {
      throw new AssayError(
        'validation_failed',
        `${key}: unknown setting (known: ${[...dayFields, 'moverFallbackReviewer'].join(', ')})`,
        { field: key },
      );
    }
  }
  return out;
}

export async function loadGovernanceSettings(trx: Trx, workspaceId: string): Promise<GovernanceSettings> {
  const stored = ((await findGovernanceSettings(trx, workspaceId)) ?? {}) as Partial<GovernanceSettings>;
  return { ...defaultGovernanceSettings, ...stored };
}

export async function getGovernanceSettings(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => loadGovernanceSettings(trx, workspace.id));
}

export async function updateGovernanceSettings(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: Record<string, unknown>,
) {
  const changes = normalizeSettings(input);
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const current = await loadGovernanceSettings(trx, workspace.id);
    const next = { ...current, ...changes };
    await saveGovernanceSettings(trx, workspace.id, { ...next });
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'governance.settings_updated',
      targetType: 'workspace',
      targetId: workspace.id,
      details: { ...changes },
    });
    return next;
  });
}
