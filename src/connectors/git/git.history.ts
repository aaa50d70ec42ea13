/**
 * A branch's history as Code Change (990002) events, for change management (CC8.1):
 *
 * - every commit on the branch's first-parent line is one event, dated when it was committed;
 * - a merge commit (two or more parents) is `pull_request_merged` (activity 2 "Pull Request
 *   Merged"): its actor is who merged (the merge commit's author), its target the change's author
 *   (the author of the merged branch's head), and `code.pullRequest` the number the merge message
 *   names (GitHub `Merge pull request #12 from …`, Bitbucket `(pull request #12)`, Azure DevOps
 *   `Merged PR 12:`, GitLab `See merge request group/project!12`). A squash merge — one parent,
 *   subject ending in `(#12)` as GitHub writes it — is a merged pull request as well;
 * - any other commit is a `push` (activity 1): actor the committer, target the author;
 * - each `Approved-by:` or `Reviewed-by:` trailer of a merged change is a `review_submitted`
 *   event with `reviewState: "approved"` by the person it names, for the same pull request, dated
 *   with the merge — what `change.independent_approval` judges (an approval by someone other than
 *   the change's author). `Co-authored-by:` trailers are listed in `code.coAuthors`;
 * - the signature git verifies (`%G?`) is `code.signature`; the commit and its parents are
 *   `code.commit` and `code.parents`.
 *
 * People are named by their lower-cased email in system `git:<org/repo>` (display name = the name
 * git records), so their accounts join people from HR by email.
 */
import {
  type CodeChange,
  classify,
  type IdentityRef,
  type ImportRecord,
  type NormalizedEvent,
  type PrincipalType,
} from '../../domains/events/event.model.ts';
import { compact, eventRecord, ref } from '../shared/importer.ts';

export interface GitPerson {
  name: string;
  email: string;
}

export interface Trailer {
  key: string;
  value: string;
}

export interface GitCommit {
  sha: string;
  parents: string[];
  author: GitPerson & { date: string };
  committer: GitPerson & { date: string };
  signature: { status: string; key?: string | undefined; signer?: string | undefined };
  trailers: Trailer[];
  message: string;
}

/** `git log` fields, in order (each followed by NUL). */
export const commitFormat = [
  '%H',
  '%P',
  '%an',
  '%ae',
  '%aI',
  '%cn',
  '%ce',
  '%cI',
  '%G?',
  '%GK',
  '%GS',
  '%(trailers:only,unfold)',
  '%B',
]
  .map((f) => `${f}%x00`)
  .join('');
export const commitFields = 13;

export function parseCommit(fields: string[]): GitCommit {
  const [sha, parents, an, ae, ad, cn, ce, cd, g, gk, gs, trailers, body] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    sha,
    parents: parents.split(' ').filter(Boolean),
    author: { name: an, email: ae, date: isoTime(ad) },
    committer: { name: cn, email: ce, date: isoTime(cd) },
    signature: compact({ status: g || 'N', key: gk || undefined, signer: gs || undefined }),
    trailers: parseTrailers(trailers),
    message: body.replace(/\n+$/, ''),
  };
}

function isoTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

export function parseTrailers(text: string): Trailer[] {
  const out: Trailer[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$/.exec(line.trim());
    if (m) out.push({ key: m[1]!, value: m[2]!.trim() });
  }
  return out;
}

/** `Jane Doe <jane@example.com>` (or a bare address) as a person. */
export function parsePerson(value: string): GitPerson | undefined {
  const m = /^(.*?)\s*<([^<>\s]+)>\s*$/.exec(value.trim());
  if (m) return { name: m[1]!.trim().replace(/^"|"$/g, ''), email: m[2]! };
  if (/^[^\s@]+@[^\s@]+$/.test(value.trim())) return { name: '', email: value.trim() };
  return undefined;
}

const signatures: Record<string, CodeChange['signature']> = {
  G: 'good',
  U: 'good_untrusted',
  X: 'expired',
  Y: 'expired_key',
  R: 'revoked_key',
  B: 'bad',
  E: 'unverifiable',
  N: 'none',
};

export function signatureStatus(code: string): NonNullable<CodeChange['signature']> {
  return signatures[code] ?? 'unverifiable';
}

/** The pull request a merge commit names, if any. */
export function pullRequestNumber(message: string, isMerge: boolean): number | undefined {
  const subject = message.split('\n', 1)[0] ?? '';
  const patterns = isMerge
    ? [
        /^Merge pull request #(\d+) from /,
        /\(pull request #(\d+)\)/,
        /^Merged PR (\d+):/,
        /See merge request [^\s!]+!(\d+)/,
      ]
    : [/\(#(\d+)\)\s*$/];
  for (const pattern of patterns) {
    const m = pattern.exec(isMerge ? message : subject);
    if (m) return Number(m[1]);
  }
  return undefined;
}

const approvalTrailers = new Map([
  ['approved-by', 'approved-by'],
  ['reviewed-by', 'reviewed-by'],
]);

export interface HistoryContext {
  /** `org/repo` */
  repository: string;
  /** `git:<repository>` */
  system: string;
  branch: string;
}

function principalType(person: GitPerson): PrincipalType {
  if (/\[bot\]$/i.test(person.name) || /\[bot\]@/i.test(person.email)) return 'service';
  if (/^noreply@github\.com$/i.test(person.email)) return 'system';
  return 'user';
}

export function personRef(system: string, person: GitPerson): IdentityRef {
  const email = person.email.trim().toLowerCase();
  const id = email || person.name.trim();
  return ref({
    type: principalType(person),
    system,
    externalId: id,
    userName: id,
    email: email && /^[^\s@]+@[^\s@]+$/.test(email) ? email : undefined,
    displayName: person.name.trim() || undefined,
  });
}

export interface CommitSummary {
  commits: number;
  merges: number;
  pullRequests: number;
  approvals: number;
  unsigned: number;
}

/**
 * The events for one commit of the branch's first-parent line. `mergedHead` is the author of the
 * merged branch's head (second parent) for a merge commit.
 */
export function commitRecords(
  ctx: HistoryContext,
  commit: GitCommit,
  mergedHead: GitPerson | undefined,
  summary: CommitSummary,
): ImportRecord[] {
  const isMerge = commit.parents.length >= 2;
  const pullRequest = pullRequestNumber(commit.message, isMerge);
  const isPullRequest = isMerge || pullRequest !== undefined;
  const position = { file: `${ctx.repository}@${commit.sha.slice(0, 12)}` };
  const coAuthors = commit.trailers
    .filter((t) => t.key.toLowerCase() === 'co-authored-by')
    .map((t) => parsePerson(t.value)?.email.toLowerCase())
    .filter((e): e is string => Boolean(e));
  const signature = signatureStatus(commit.signature.status);
  summary.commits++;
  if (isMerge) summary.merges++;
  if (isPullRequest) summary.pullRequests++;
  if (signature === 'none') summary.unsigned++;

  const raw = {
    commit: commit.sha,
    parents: commit.parents,
    author: commit.author,
    committer: commit.committer,
    signature: commit.signature,
    trailers: commit.trailers,
    message: commit.message,
    ...(mergedHead ? { mergedHead } : {}),
  };
  const base = {
    source: 'git' as const,
    system: ctx.system,
    time: commit.committer.date,
    outcome: 'success' as const,
    repository: ctx.repository,
    branch: ctx.branch,
  };
  const records: ImportRecord[] = [];
  const author = personRef(ctx.system, isMerge && mergedHead ? mergedHead : commit.author);
  if (isPullRequest) {
    const merger = isMerge ? commit.author : commit.committer;
    const event: NormalizedEvent = {
      ...base,
      sourceKey: `${ctx.repository}@${commit.sha}`,
      ...classify('codeChange', 2),
      action: isMerge ? 'git.merge' : 'git.squash_merge',
      actor: personRef(ctx.system, merger),
      target: author,
      code: compact({
        change: 'pull_request_merged' as const,
        bypass: false,
        pullRequest,
        mergedBy: merger.email.toLowerCase() || merger.name,
        commit: commit.sha,
        parents: commit.parents,
        signature,
        coAuthors: coAuthors.length > 0 ? coAuthors : undefined,
      }),
      raw,
    };
    records.push(eventRecord(event, position));
    const seen = new Set<string>();
    for (const trailer of commit.trailers) {
      const kind = approvalTrailers.get(trailer.key.toLowerCase());
      const reviewer = kind ? parsePerson(trailer.value) : undefined;
      if (!kind || !reviewer) continue;
      const who = reviewer.email.toLowerCase();
      if (seen.has(who)) continue;
      seen.add(who);
      summary.approvals++;
      records.push(
        eventRecord(
          {
            ...base,
            sourceKey: `${ctx.repository}@${commit.sha}/review/${who}`,
            ...classify('codeChange', 99, 'Review Submitted'),
            action: `git.trailer.${kind}`,
            actor: personRef(ctx.system, reviewer),
            code: compact({
              change: 'review_submitted' as const,
              bypass: false,
              reviewState: 'approved',
              pullRequest,
              commit: commit.sha,
            }),
            raw: { commit: commit.sha, trailer: `${trailer.key}: ${trailer.value}` },
          },
          position,
        ),
      );
    }
    return records;
  }
  records.push(
    eventRecord(
      {
        ...base,
        sourceKey: `${ctx.repository}@${commit.sha}`,
        ...classify('codeChange', 1),
        action: 'git.commit',
        actor: personRef(ctx.system, commit.committer),
        target: author,
        code: compact({
          change: 'push' as const,
          bypass: false,
          commitCount: 1,
          commit: commit.sha,
          parents: commit.parents,
          signature,
          coAuthors: coAuthors.length > 0 ? coAuthors : undefined,
        }),
        raw,
      },
      position,
    ),
  );
  return records;
}

/** The event for a branch whose history was rewritten since the last pull (a force push). */
export function rewriteRecord(ctx: HistoryContext, previous: string, tip: string, at: string): ImportRecord {
  return eventRecord(
    {
      source: 'git',
      sourceKey: `${ctx.repository}/${ctx.branch}/rewritten/${previous}/${tip}`,
      system: ctx.system,
      time: at,
      ...classify('codeChange', 1),
      action: 'git.history_rewritten',
      outcome: 'success',
      repository: ctx.repository,
      branch: ctx.branch,
      code: {
        change: 'push',
        bypass: true,
        forcePush: true,
        bypassReason: `history rewritten: ${previous.slice(0, 12)} is no longer on ${ctx.branch} (now at ${tip.slice(0, 12)})`,
      },
      raw: { previous, tip, branch: ctx.branch },
    },
    { file: `${ctx.repository}@${tip.slice(0, 12)}` },
  );
}
