/**
 * Who must acknowledge a policy version, by when, and who has. A campaign addresses a list of
 * people or, with no list, the whole active workforce from HR; people hired later have the
 * new-hire allowance from their start date. Acknowledgements belong to one version, so version 2's
 * campaign starts from nobody while version 1's records stay as they were.
 */
import { addDays } from '../shared/values.ts';

export interface AckSettings {
  /** Days to acknowledge a published version that has no campaign with its own due date. */
  campaignDays: number;
  /** Days a person hired after the deadline has from their start date. */
  newHireDays: number;
}

export const defaultAckSettings: AckSettings = { campaignDays: 30, newHireDays: 30 };

export interface Member {
  email: string;
  name: string | null;
  startDate: Date | null;
}

export interface MemberStatus extends Member {
  deadline: Date;
  acknowledgedAt: Date | null;
  evidenceId: string | null;
  overdue: boolean;
}

export function acknowledgementStatus(input: {
  publishedAt: Date;
  campaign: { due_at: Date; audience: string[] } | null;
  workforce: Member[];
  acknowledgements: { email: string; acknowledged_at: Date; evidence_id: string | null }[];
  asOf: Date;
  settings?: AckSettings;
}) {
  const settings = input.settings ?? defaultAckSettings;
  const deadline = input.campaign?.due_at ?? addDays(input.publishedAt, settings.campaignDays);
  const byEmail = new Map(input.workforce.map((m) => [m.email.toLowerCase(), m]));
  const audience: Member[] =
    input.campaign && input.campaign.audience.length > 0
      ? input.campaign.audience.map((email) => byEmail.get(email) ?? { email, name: null, startDate: null })
      : input.workforce;
  const acks = new Map<string, { acknowledged_at: Date; evidence_id: string | null }>();
  for (const a of input.acknowledgements) if (a.acknowledged_at <= input.asOf) acks.set(a.email, a);
  const members: MemberStatus[] = audience.map((m) => {
    const own = m.startDate ? addDays(m.startDate, settings.newHireDays) : deadline;
    const personal = own > deadline ? own : deadline;
    const ack = acks.get(m.email.toLowerCase());
    return {
      ...m,
      email: m.email.toLowerCase(),
      deadline: personal,
      acknowledgedAt: ack?.acknowledged_at ?? null,
      evidenceId: ack?.evidence_id ?? null,
      overdue: !ack && personal < input.asOf,
    };
  });
  return {
    deadline,
    audience:
      input.campaign && input.campaign.audience.length > 0 ? ('listed' as const) : ('workforce' as const),
    members,
    acknowledged: members.filter((m) => m.acknowledgedAt).length,
    overdue: members.filter((m) => m.overdue),
  };
}

/** People employed at `asOf` by HR's record (an end date is the last day worked). */
export function activeWorkforce(
  people: {
    email: string;
    name: string;
    status: string;
    start_date: Date | string | null;
    end_date: Date | string | null;
  }[],
  asOf: Date,
): Member[] {
  const out: Member[] = [];
  for (const p of people) {
    const start = p.start_date ? new Date(p.start_date) : null;
    const end = p.end_date ? new Date(p.end_date) : null;
    if (end && addDays(end, 1) <= asOf) continue;
    if (!end && p.status === 'terminated') continue;
    if (start && start > asOf) continue;
    out.push({ email: p.email.toLowerCase(), name: p.name, startDate: start });
  }
  return out;
}
