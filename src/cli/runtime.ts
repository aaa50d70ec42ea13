/**
 * What every CLI command shares: global options, opening the database (migrating it on first
 * use), printing one JSON document with `--json` or a readable text otherwise, and turning errors
 * into the exit codes of the CLI contract.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import type { Actor } from '../domains/audit/actor.ts';
import { AssayError, isAssayError } from '../errors.ts';
import { exitCodeByKind } from '../http/error-mapping.ts';

export interface GlobalOptions {
  data?: string;
  databaseUrl?: string;
  json?: boolean;
}

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Everything on standard input (`--password-stdin`); process.stdin when not given. */
  stdin?: () => Promise<string>;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function configFrom(options: GlobalOptions, extra: Parameters<typeof loadConfig>[0] = {}): Config {
  return loadConfig({ dataDir: options.data, databaseUrl: options.databaseUrl, ...extra });
}

export async function withDatabase<T>(config: Config, fn: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(config);
  try {
    await migrate(database);
    return await fn(database);
  } finally {
    await database.close();
  }
}

export function cliActor(): Actor {
  let name = 'cli';
  try {
    name = userInfo().username;
  } catch {
    // no user database entry (containers); keep the generic name
  }
  return { type: 'cli', id: name };
}

/** Prints a result: the JSON document with --json, otherwise the human rendering. */
export function output<T>(
  io: CommandIO,
  options: GlobalOptions,
  result: T,
  human: (value: T) => string,
): void {
  if (options.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout(`${human(result)}\n`);
}

export function reportError(io: CommandIO, options: GlobalOptions, error: unknown): 1 | 2 {
  if (isAssayError(error)) {
    if (options.json)
      io.stdout(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
    io.stderr(`assay: ${error.message}\n`);
    return exitCodeByKind[error.kind];
  }
  const message = error instanceof Error ? error.message : String(error);
  if (options.json) io.stdout(`${JSON.stringify({ error: { code: 'internal', message } })}\n`);
  io.stderr(`assay: unexpected error: ${message}\n`);
  return 1;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function requireOption(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === '') {
    throw new AssayError('validation_failed', `missing required option ${flag}`, { field: flag });
  }
  return value;
}
