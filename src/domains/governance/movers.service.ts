/**
 * Movers: a change of title, department or manager — in an HR roster import (or BambooHR) or a
 * SCIM write to the directory — opens a review of the person's current entitlements by the new
 * manager: an access review campaign scoped to that one person (`kind: mover`). Each entitlement
 * is decided keep or revoke with a justification; revocations become the same tracked tasks as
 * any campaign's, closed only when the source confirms. Entitlements no peer in the new role holds
 * (same department and title, else same department, else same title) are flagged.
 *
 * A move is found by comparing each source's job profile with the one governance last saw from
 * that same source, so HR and a directory that disagree never look like a move.
 */
import { userEmail } from '../../connectors/scim/scim.resource.ts';
import { enterpriseUserSchemaUrn } from '../../connectors/scim/scim.schemas.ts';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Facts } from '../monitoring/facts.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  countMoverReviewItems,
  findOpenMoverReview,
  listMoverReviews,
  releaseSavepoint,
  rollbackToSavepoint,
  savepoint,
} from './campaigns.repository.ts';
import { launchIn, snapshot } from './campaigns.service.ts';
import type { GovernanceSettings } from './governance-settings.ts';
import { advanceJobProfile, insertJobProfile, listJobProfiles, listScimUsers } from './jml.repository.ts';

interface Profile {
  source: string;
  email: string;
  title: string | null;
  department: string | null;
  manager_email: string | null;
}

const fields = ['title', 'department', 'manager_email'] as const;
const norm = (v: string | null | undefined) => (v ?? '').trim().toLowerCase();
const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

export interface MoverSummary {
  moversDetected: number;
  moverReviewsLaunched: number;
}

/** Every source's current job profile of every employed person. */
async function currentProfiles(trx: Trx, workspaceId: string, facts: Facts): Promise<Profile[]> {
  const out: Profile[] = [];
  for (const p of await facts.people()) {
    if (p.status === 'terminated') continue;
    out.push({
      source: 'hr',
      email: p.email.toLowerCase(),
      title: p.title,
      department: p.department,
      manager_email: p.managerEmail?.toLowerCase() ?? null,
    });
  }
  const users = await listScimUsers(trx, workspaceId);
  const emailById = new Map(
    users.map((u) => [u.id, userEmail(u.resource as never, u.user_name)?.toLowerCase() ?? null]),
  );
  for (const u of users) {
    if (!u.active) continue;
    const email = emailById.get(u.id);
    if (!email?.includes('@')) continue;
    const resource = u.resource as Record<string, unknown>;
    const extension = (resource[enterpriseUserSchemaUrn] ?? {}) as Record<string, unknown>;
    const manager = extension.manager as { value?: unknown } | undefined;
    const managerId = typeof manager?.value === 'string' ? manager.value : null;
    out.push({
      source: `scim:${u.directory}`,
      email,
      title: str(resource.title),
      department: str(extension.department),
      manager_email: managerId ? (emailById.get(managerId) ?? null) : null,
    });
  }
  return out;
}

/** The people a mover is compared with: the same department and title, else department, else title. */
function peersOf(mover: Profile, profiles: Profile[]): { peers: Profile[]; group: string } {
  const others = profiles.filter((p) => p.source === mover.source && p.email !== mover.email);
  const same = (p: Profile, f: 'title' | 'department') => norm(p[f]) !== '' && norm(p[f]) === norm(mover[f]);
  const both = others.filter((p) => same(p, 'department') && same(p, 'title'));
  if (both.length > 0) return { peers: both, group: `${mover.title} in ${mover.department}` };
  const department = others.filter((p) => same(p, 'department'));
  if (department.length > 0) return { peers: department, group: `department ${mover.department}` };
  const title = others.filter((p) => same(p, 'title'));
  return { peers: title, group: `title ${mover.title}` };
}

export async function reconcileMovers(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  asOf: Date,
  facts: Facts,
  settings: GovernanceSettings,
): Promise<MoverSummary> {
  const summary: MoverSummary = { moversDetected: 0, moverReviewsLaunched: 0 };
  const profiles = await currentProfiles(trx, workspaceId, facts);
  const stored = new Map(
    (await listJobProfiles(trx, workspaceId)).map((p) => [`${p.source}\u0000${p.email}`, p]),
  );
  for (const profile of profiles) {
    const before = stored.get(`${profile.source}\u0000${profile.email}`);
    const values = {
      title: profile.title,
      department: profile.department,
      manager_email: profile.manager_email,
      seen_at: asOf,
    };
    if (!before) {
      // First sight of this person in this source: the baseline, not a move.
      await insertJobProfile(trx, workspaceId, profile.source, profile.email, values);
      continue;
    }
    const changed = fields.filter((f) => norm(before[f]) !== norm(profile[f]));
    if (changed.length === 0) continue;
    // Only the reconciliation that moves the stored profile on reacts (two may run at once).
    const moved = await advanceJobProfile(trx, workspaceId, profile.source, profile.email, before, values);
    if (moved === 0) continue;
    summary.moversDetected++;
    const change = {
      source: profile.source,
      at: asOf.toISOString(),
      changed,
      from: { title: before.title, department: before.department, manager: before.manager_email },
      to: { title: profile.title, department: profile.department, manager: profile.manager_email },
    };
    const reviewer = profile.manager_email ?? settings.moverFallbackReviewer ?? before.manager_email;
    const open = await findOpenMoverReview(trx, workspaceId, profile.email);
    let campaignId: string | null = open?.id ?? null;
    let outcome = open ? 'an open mover review already covers the person' : 'launched';
    if (!open && !reviewer) outcome = 'no manager and no moverFallbackReviewer: nobody to review';
    if (!open && reviewer) {
      const { peers, group } = peersOf(profile, profiles);
      const peerItems =
        peers.length > 0
          ? await snapshot(
              trx,
              workspaceId,
              { people: peers.map((p) => p.email), includeNonHuman: false },
              asOf,
              reviewer,
            )
          : [];
      const held = new Set(peerItems.map((i) => `${i.system}\u0000${i.entitlement}`));
      await savepoint(trx, 'mover_review');
      try {
        const campaign = await launchIn(
          trx,
          workspaceId,
          actor,
          {
            name: `Mover review: ${profile.email} (${changed.map((c) => (c === 'manager_email' ? 'manager' : c)).join(', ')} changed)`,
            scope: { people: [profile.email], includeNonHuman: false, includeDelegated: false },
            fallbackReviewer: reviewer,
            dueInDays: Math.max(1, settings.moverReviewDays),
          },
          [],
          asOf,
          {
            kind: 'mover',
            subjectEmail: profile.email,
            moverChange: { ...change, peers: peers.length, peerGroup: peers.length > 0 ? group : null },
            reviewer,
            flag: (item) =>
              peers.length > 0 && !held.has(`${item.system}\u0000${item.entitlement}`)
                ? {
                    flag: 'not_held_by_peers',
                    reason: `no other person with ${group} holds ${item.entitlement} on ${item.system}`,
                  }
                : null,
          },
        );
        await releaseSavepoint(trx, 'mover_review');
        campaignId = campaign.id;
        summary.moverReviewsLaunched++;
      } catch (error) {
        if (!(error instanceof AssayError) || error.code !== 'validation_failed') throw error;
        await rollbackToSavepoint(trx, 'mover_review');
        outcome = 'no active account to review';
      }
    }
    await recordAudit(trx, {
      workspaceId,
      actor,
      action: 'governance.mover_detected',
      targetType: 'person',
      targetId: profile.email,
      details: { ...change, reviewer, campaignId, outcome },
    });
  }
  return summary;
}

/** Mover reviews, newest first, with their change and progress. */
export async function listMovers(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const rows = await countMoverReviewItems(trx, workspace.id);
    const counts = new Map(rows.map((r) => [r.id, r]));
    const campaigns = await listMoverReviews(trx, workspace.id);
    return campaigns.map((c) => ({
      campaign: c,
      items: counts.get(c.id)?.items ?? 0,
      decided: counts.get(c.id)?.decided ?? 0,
      flagged: counts.get(c.id)?.flagged ?? 0,
    }));
  });
}
