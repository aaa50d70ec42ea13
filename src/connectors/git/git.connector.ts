/**
 * The git connector (`assay connector add git`): reads a repository on this server's disk (a
 * clone or mirror the operator keeps up to date) with the `git` CLI and records the branch's
 * history as Code Change events. Incremental: the cursor is the last commit pulled, and the next
 * pull reads only what came after it; if that commit is no longer on the branch, the history was
 * rewritten (a force push), which is recorded as a protection bypass. See docs/connectors/git.md.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { ImportRecord } from '../../domains/events/event.model.ts';
import { AssayError } from '../../errors.ts';
import { type PullConnector, rejectUnknownSettings, settingString } from '../pull.ts';
import { git, gitOk, gitRecords } from './git.cli.ts';
import {
  type CommitSummary,
  commitFields,
  commitFormat,
  commitRecords,
  type GitCommit,
  type GitPerson,
  type HistoryContext,
  parseCommit,
  rewriteRecord,
} from './git.history.ts';

export interface GitSettings {
  /** Absolute path of the repository (a working tree or a bare clone). */
  path: string;
  /** The branch (or any ref) whose first-parent history is the record of changes. */
  branch: string;
  /** `org/repo`: how checks and findings name the repository. */
  repository: string;
  /** Only commits after this date on the first pull (ISO 8601 date or date-time). */
  since?: string | undefined;
}

const knownSettings = ['path', 'branch', 'repository', 'since'] as const;
const refPattern = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/@{}^~-]{1,200}$/;
const repositoryPattern = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export function parseGitSettings(input: Record<string, unknown>): GitSettings {
  rejectUnknownSettings(input, knownSettings);
  const path = settingString(input, 'path', { required: true })!;
  const branch = settingString(input, 'branch', { pattern: refPattern, patternHint: 'is not a branch name' });
  const repository = settingString(input, 'repository', {
    pattern: repositoryPattern,
    patternHint: 'must look like org/repo',
  });
  const since = settingString(input, 'since');
  if (since !== undefined && Number.isNaN(Date.parse(since))) {
    throw new AssayError('validation_failed', `connector setting "since" ("${since}") is not an ISO date`, {
      field: 'since',
    });
  }
  return {
    path: resolve(path),
    branch: (branch ?? '').replace(/^refs\/heads\//, ''),
    repository: repository ?? '',
    since,
  };
}

/** `org/repo` from a remote URL (`git@github.com:org/repo.git`, `https://host/org/repo`). */
export function repositoryFromUrl(url: string): string | undefined {
  const text = url
    .trim()
    .replace(/\.git\/?$/, '')
    .replace(/\/$/, '');
  const m = /[:/]([^/:]+\/[^/:]+)$/.exec(text);
  return m ? m[1] : undefined;
}

async function requireRepository(path: string): Promise<void> {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new AssayError('validation_failed', `connector setting "path": ${path} is not a directory`, {
      field: 'path',
    });
  }
  const result = await git(path, ['rev-parse', '--git-dir']);
  if (result.code !== 0) {
    throw new AssayError(
      'validation_failed',
      `connector setting "path": ${path} is not a git repository (${result.stderr || 'git rev-parse failed'})`,
      { field: 'path' },
    );
  }
}

async function resolveCommit(path: string, ref: string): Promise<string | undefined> {
  const result = await git(path, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** The branch HEAD points at, else `main`. */
async function defaultBranch(path: string): Promise<string> {
  const result = await git(path, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return result.code === 0 && result.stdout.trim() ? result.stdout.trim() : 'main';
}

async function validateSource(settings: GitSettings): Promise<GitSettings> {
  await requireRepository(settings.path);
  const branch = settings.branch || (await defaultBranch(settings.path));
  if (!(await resolveCommit(settings.path, branch))) {
    throw new AssayError(
      'validation_failed',
      `connector setting "branch": ${settings.path} has no branch "${branch}"`,
      { field: 'branch' },
    );
  }
  let repository = settings.repository;
  if (!repository) {
    const remote = await git(settings.path, ['config', '--get', 'remote.origin.url']);
    repository =
      (remote.code === 0 ? repositoryFromUrl(remote.stdout) : undefined) ??
      basename(settings.path).replace(/\.git$/, '');
  }
  return { ...settings, branch, repository };
}

const lookupChunk = 200;

export const gitConnector: PullConnector<GitSettings> = {
  kind: 'git',
  description: 'git repository history: commits, merges, approval trailers, signatures',
  credentialFields: [],
  parseSettings: parseGitSettings,
  validateSource,
  async prepare(context) {
    const settings =
      context.settings.branch && context.settings.repository
        ? context.settings
        : await validateSource(context.settings);
    const { path, branch } = settings;
    await requireRepository(path);
    const tip = await resolveCommit(path, branch);
    if (!tip) {
      throw new AssayError(
        'connector_pull_failed',
        `git connector ${context.name}: ${path} has no branch "${branch}"`,
      );
    }
    const previous = typeof context.cursor?.commit === 'string' ? context.cursor.commit : undefined;
    let rewritten = false;
    let exclude: string | undefined;
    if (previous && previous !== tip) {
      const ancestry = await git(path, ['merge-base', '--is-ancestor', previous, tip]);
      if (ancestry.code === 0) exclude = previous;
      else {
        rewritten = true;
        // What is still shared with the old history was stored already; replays are harmless.
        if ((await git(path, ['cat-file', '-e', `${previous}^{commit}`])).code === 0) exclude = previous;
      }
    }
    const ctx: HistoryContext = {
      repository: settings.repository,
      system: `git:${settings.repository}`,
      branch: branch.replace(/^refs\/heads\//, ''),
    };
    const summary: CommitSummary = { commits: 0, merges: 0, pullRequests: 0, approvals: 0, unsigned: 0 };
    const args = ['log', '--first-parent', '--reverse', '-z', `--format=${commitFormat}`];
    if (!previous && settings.since) args.push(`--since=${settings.since}`);
    args.push('--end-of-options', tip);
    if (exclude) args.push(`^${exclude}`);
    const upToDate = previous === tip;

    return {
      async *records() {
        if (rewritten && previous) yield rewriteRecord(ctx, previous, tip, context.observedAt);
        if (upToDate) return;
        let chunk: GitCommit[] = [];
        const flush = async function* (): AsyncGenerator<ImportRecord> {
          const heads = await mergedHeads(path, chunk);
          for (const commit of chunk)
            yield* commitRecords(ctx, commit, heads.get(commit.parents[1] ?? ''), summary);
          chunk = [];
        };
        for await (const fields of gitRecords(path, args, commitFields)) {
          chunk.push(parseCommit(fields));
          if (chunk.length >= lookupChunk) yield* flush();
        }
        if (chunk.length > 0) yield* flush();
      },
      cursor() {
        return { commit: tip, branch: ctx.branch };
      },
      summary() {
        return {
          repository: ctx.repository,
          branch: ctx.branch,
          from: previous ?? null,
          to: tip,
          rewritten: rewritten ? 'yes' : 'no',
          ...summary,
        };
      },
    };
  },
};

/** The author of each merge's second parent (the merged branch's head), in one git call. */
async function mergedHeads(path: string, commits: GitCommit[]): Promise<Map<string, GitPerson>> {
  const heads = [...new Set(commits.filter((c) => c.parents.length >= 2).map((c) => c.parents[1]!))];
  const found = new Map<string, GitPerson>();
  if (heads.length === 0) return found;
  const out = await gitOk(
    path,
    ['log', '--no-walk=unsorted', '--stdin', '-z', '--format=%H%x00%an%x00%ae%x00'],
    `${heads.join('\n')}\n`,
  );
  const tokens = out.split('\0');
  let i = 0;
  while (i < tokens.length) {
    if (tokens[i] === '') {
      i++;
      continue;
    }
    const [sha, name, email] = [tokens[i]!, tokens[i + 1] ?? '', tokens[i + 2] ?? ''];
    found.set(sha, { name, email });
    i += 3;
  }
  return found;
}
