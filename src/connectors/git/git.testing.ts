/**
 * Real git repositories for tests: built in a temporary directory with the git CLI, with fixed
 * authors, committers and dates, and no global or system git configuration.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Person {
  name: string;
  email: string;
}
export const alice: Person = { name: 'Alice Archer', email: 'alice@acme.example' };
export const bob: Person = { name: 'Bob Baker', email: 'Bob@Acme.example' };
export const carol: Person = { name: 'Carol Chen', email: 'carol@acme.example' };
export const dave: Person = { name: 'Dave Dorsey', email: 'dave@acme.example' };
export const erin: Person = { name: 'Erin Evans', email: 'erin@acme.example' };
export const github: Person = { name: 'GitHub', email: 'noreply@github.com' };

/** A repository in a temporary directory, driven with the real git CLI and a clean environment. */
export function repository(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'assay-git-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'payments-api');
  const baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
  };
  const run = (args: string[], env: Record<string, string> = {}) =>
    execFileSync('git', ['-C', path, ...args], { env: { ...baseEnv, ...env }, encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', path], { env: baseEnv });
  run(['config', 'remote.origin.url', 'git@github.com:acme/payments-api.git']);
  const who = (author: Person, committer: Person, date: string) => ({
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
    GIT_COMMITTER_DATE: date,
  });
  let files = 0;
  return {
    path,
    dir,
    run,
    commit(
      author: Person,
      date: string,
      message: string,
      options: { committer?: Person; sign?: boolean } = {},
    ) {
      files++;
      writeFileSync(join(path, `file-${files}.txt`), `${message}\n`);
      run(['add', '.']);
      run(
        ['commit', '-q', ...(options.sign ? ['-S'] : []), '-m', message],
        who(author, options.committer ?? author, date),
      );
      return run(['rev-parse', 'HEAD']);
    },
    branch(name: string, from = 'main') {
      run(['checkout', '-q', '-b', name, from]);
    },
    checkout(name: string) {
      run(['checkout', '-q', name]);
    },
    merge(branch: string, merger: Person, date: string, message: string) {
      run(['checkout', '-q', 'main']);
      run(['merge', '-q', '--no-ff', '-m', message, branch], who(merger, merger, date));
      return run(['rev-parse', 'HEAD']);
    },
  };
}
