/**
 * The documentation's CLI examples are exercised:
 *
 * - every `assay …` line in a shell block of README.md or docs/ names a real command and only
 *   options that command (or the program) defines;
 * - the blocks marked `<!-- docs-test: run -->` just above their fence are run, in document
 *   order (README first, then docs/ alphabetically), in-process against one fresh database, and
 *   each command must succeed;
 * - every CLI command (the tree `buildProgram()` registers) is mentioned in README.md or docs/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { cliHarness } from '../helpers/cli.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const runMarker = '<!-- docs-test: run -->';

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
      );
  return [join(root, 'README.md'), ...walk(join(root, 'docs'))];
}

interface Example {
  file: string;
  line: number;
  argv: string[];
  run: boolean;
}

/** Splits a shell command line into words (quotes and backslash escapes; no expansion). */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The `assay` invocations of one shell line: after pipes, `;`, `&&`, `do`; `npx`/`node bin/assay.js` too. */
function invocations(line: string): string[][] {
  const withoutComment = line.replace(/(^|\s)#\s.*$/, '');
  return withoutComment
    .split(/\s*(?:\|\||&&|;|\|)\s*/)
    .map((segment) => shellWords(segment.replace(/^(do|then)\s+/, '')))
    .map((words) => {
      if (words[0] === 'npx' && words[1] === 'assay') return words.slice(1);
      if (words[0] === 'node' && words[1] === 'bin/assay.js') return ['assay', ...words.slice(2)];
      return words;
    })
    .filter((words) => words[0] === 'assay')
    .map((words) => words.slice(1));
}

function examples(): Example[] {
  const found: Example[] = [];
  for (const file of markdownFiles()) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let fence: { shell: boolean; run: boolean } | null = null;
    let pending = '';
    let pendingLine = 0;
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!;
      const marker = /^\s*```+\s*([\w-]*)/.exec(text);
      if (marker) {
        if (fence) fence = null;
        else {
          const previous =
            lines
              .slice(0, i)
              .reverse()
              .find((l) => l.trim() !== '') ?? '';
          fence = {
            shell: ['sh', 'bash', 'shell', ''].includes(marker[1]!),
            run: previous.trim() === runMarker,
          };
        }
        continue;
      }
      if (!fence?.shell) continue;
      if (pending === '') pendingLine = i + 1;
      if (text.trimEnd().endsWith('\\')) {
        pending += `${text.trimEnd().slice(0, -1)} `;
        continue;
      }
      const full = pending + text;
      pending = '';
      for (const argv of invocations(full.trim())) {
        found.push({ file: relative(root, file), line: pendingLine, argv, run: fence.run });
      }
    }
  }
  return found;
}

const io = { stdout: () => {}, stderr: () => {} };

/** Resolves argv against the command tree: the command reached and the options it may take. */
function resolve(program: Command, argv: string[]): { path: string[]; error?: string } {
  let command = program;
  const path: string[] = [];
  const longOptions = (c: Command) => c.options.map((o) => o.long).filter((l): l is string => !!l);
  const shortOptions = (c: Command) => c.options.map((o) => o.short).filter((s): s is string => !!s);
  const allowed = new Set<string>([...longOptions(program), ...shortOptions(program), '--help', '-h']);
  const takesValue = new Map(program.options.map((o) => [o.long ?? '', o.required || o.optional]));
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (word.startsWith('-')) {
      const name = word.split('=')[0]!;
      if (!allowed.has(name)) return { path, error: `unknown option ${name} for "assay ${path.join(' ')}"` };
      if (takesValue.get(name) && !word.includes('=')) i++;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
    path.push(word);
    for (const o of sub.options) {
      if (o.long) allowed.add(o.long);
      if (o.short) allowed.add(o.short);
      takesValue.set(o.long ?? '', o.required || o.optional);
    }
  }
  if (command === program) return { path, error: `no command "${argv[0] ?? ''}"` };
  if (command.commands.length > 0 && !(command as unknown as { _actionHandler?: unknown })._actionHandler) {
    return {
      path,
      error: `"assay ${path.join(' ')}" needs a subcommand (${command.commands.map((c) => c.name()).join(', ')})`,
    };
  }
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-') || word === '-') continue;
    const name = word.split('=')[0]!;
    if (!allowed.has(name)) return { path, error: `unknown option ${name} for "assay ${path.join(' ')}"` };
  }
  return { path };
}

test('the example checker reads shell lines and catches unknown commands and options', () => {
  const program = buildProgram(io);
  assert.deepEqual(
    invocations(`printf '%s' "$P" | npx assay user create a@b.example --password-stdin # note`),
    [['user', 'create', 'a@b.example', '--password-stdin']],
  );
  assert.deepEqual(invocations(`for f in *.gz; do assay import aws-cloudtrail "$f" --tenant acme; done`), [
    ['import', 'aws-cloudtrail', '$f', '--tenant', 'acme'],
  ]);
  assert.equal(resolve(program, ['--data', 'd', 'tenant', 'create', 'x', '--kind', 'msp']).error, undefined);
  assert.match(resolve(program, ['tenant', 'create', 'x', '--bogus']).error ?? '', /unknown option --bogus/);
  assert.match(resolve(program, ['nonsense']).error ?? '', /no command "nonsense"/);
  assert.match(resolve(program, ['evidence']).error ?? '', /needs a subcommand/);
});

test('every assay example in README.md and docs/ names a real command and real options', () => {
  const program = buildProgram(io);
  const all = examples();
  assert.ok(all.length > 50, `only ${all.length} examples found`);
  const problems = all
    .map((e) => ({ e, error: resolve(program, e.argv).error }))
    .filter((x) => x.error !== undefined)
    .map(({ e, error }) => `${e.file}:${e.line}: assay ${e.argv.join(' ')} — ${error}`);
  assert.deepEqual(problems, []);
});

test('the marked documentation examples run, in order, against a fresh database', async (t) => {
  const assay = await cliHarness(t);
  const runnable = examples().filter((e) => e.run);
  assert.ok(runnable.length >= 5, `only ${runnable.length} runnable examples`);
  for (const example of runnable) {
    const result = await assay(...example.argv);
    assert.equal(
      result.code,
      0,
      `${example.file}:${example.line}: assay ${example.argv.join(' ')} exited ${result.code}: ${result.stderr}`,
    );
  }
});

/** Every leaf command's path, e.g. `evidence hold add`. */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return c.commands.length > 0
      ? [path, ...commandPaths(c, path)].filter((p) =>
          p === path ? (c as unknown as { _actionHandler?: unknown })._actionHandler !== undefined : true,
        )
      : [path];
  });
}

/**
 * The command paths the docs mention: `assay a b c`, with alternatives written `a|b` (or `a\|b`
 * in tables) expanded, and `… / assay x y` forms.
 */
function mentioned(text: string): Set<string> {
  const found = new Set<string>();
  for (const match of text
    .replace(/\\\|/g, '|')
    .matchAll(/assay((?: [a-z][a-z0-9-]*(?:\|[a-z][a-z0-9-]*)*)+)/g)) {
    let paths: string[][] = [[]];
    for (const word of match[1]!.trim().split(' ')) {
      paths = paths.flatMap((p) => word.split('|').map((w) => [...p, w]));
      for (const p of paths) found.add(p.join(' '));
    }
  }
  return found;
}

test('every CLI command is mentioned in README.md or docs/', () => {
  const text = markdownFiles()
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const documented = mentioned(text);
  const missing = commandPaths(buildProgram(io))
    .map((p) => p.join(' '))
    .filter((p) => !documented.has(p));
  assert.deepEqual(missing, []);
});
