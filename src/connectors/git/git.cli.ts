/**
 * Running the `git` CLI against a repository Assay reads: never through a shell, with the
 * repository's own configuration unable to run programs of its choosing (signature verification
 * programs, file-system monitors, hooks are pinned), and every failure an `AssayError` naming the
 * command and what git said.
 */
import { spawn } from 'node:child_process';
import { AssayError } from '../../errors.ts';

/** Overrides for settings a repository could use to make `git log` run its own programs. */
const pinned = [
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'gpg.program=gpg',
  '-c',
  'gpg.ssh.program=ssh-keygen',
  '-c',
  'gpg.x509.program=gpgsm',
  '-c',
  'log.showSignature=false',
];

const env = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  LC_ALL: 'C',
};

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

function describe(args: readonly string[]): string {
  return `git ${args.filter((a) => !a.startsWith('--format=')).join(' ')}`;
}

/** Runs git to completion; `stdin` is written to its standard input. */
export function git(repo: string, args: readonly string[], stdin?: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...pinned, '-C', repo, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new AssayError(
          'connector_pull_failed',
          error.code === 'ENOENT'
            ? 'the git command is not installed on this server'
            : `git: ${error.message}`,
        ),
      ),
    );
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8').trim(),
      }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
}

/** Runs git and returns its output, or throws `connector_pull_failed` with what git said. */
export async function gitOk(repo: string, args: readonly string[], stdin?: string): Promise<string> {
  const result = await git(repo, args, stdin);
  if (result.code !== 0) {
    throw new AssayError(
      'connector_pull_failed',
      `${describe(args)} in ${repo} failed: ${result.stderr || `exit code ${result.code}`}`,
    );
  }
  return result.stdout;
}

/**
 * Streams `git log`-like output made of NUL-terminated fields, `fields` per record, each record
 * followed by one more NUL (`-z`). Records come one at a time: a long history is never held whole.
 */
export async function* gitRecords(
  repo: string,
  args: readonly string[],
  fields: number,
): AsyncGenerator<string[]> {
  const child = spawn('git', [...pinned, '-C', repo, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 10_000) stderr += c.toString('utf8');
  });
  const closed = new Promise<number>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new AssayError(
          'connector_pull_failed',
          error.code === 'ENOENT'
            ? 'the git command is not installed on this server'
            : `git: ${error.message}`,
        ),
      ),
    );
    child.on('close', (code) => resolve(code ?? 1));
  });
  let pending: Buffer = Buffer.alloc(0);
  let record: string[] = [];
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let start = 0;
      for (let at = pending.indexOf(0, start); at >= 0; at = pending.indexOf(0, start)) {
        const token = pending.toString('utf8', start, at);
        start = at + 1;
        // Records are separated by an empty token (the -z terminator); a first field is never empty.
        if (record.length === 0 && token === '') continue;
        record.push(token);
        if (record.length === fields) {
          yield record;
          record = [];
        }
      }
      pending = pending.subarray(start);
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await closed;
  if (code !== 0) {
    throw new AssayError(
      'connector_pull_failed',
      `${describe(args)} in ${repo} failed: ${stderr.trim() || `exit code ${code}`}`,
    );
  }
  if (record.length > 0 || pending.toString('utf8').trim() !== '') {
    throw new AssayError(
      'connector_pull_failed',
      `${describe(args)} in ${repo}: output ended inside a record`,
    );
  }
}
