/** What the register commands share: the action wrapper, list options and short tables. */
import type { Command } from 'commander';
import type { Database } from '../../db/database.ts';
import type { Actor } from '../../domains/audit/actor.ts';
import { type CommandIO, cliActor, configFrom, globalOptions, output, withDatabase } from '../runtime.ts';

export interface RegisterCall<O> {
  db: Database;
  actor: Actor;
  tenant: string;
  /** The command's options without --tenant: register inputs use the same names. */
  input: Omit<O, 'tenant'>;
  args: string[];
}

/**
 * An action that opens the database, calls the register service and prints the result (one
 * JSON document with --json, `human` otherwise). `lists` names options given comma-separated.
 */
export function act<O extends { tenant: string }, R>(
  io: CommandIO,
  fn: (call: RegisterCall<O>) => Promise<R>,
  human: (result: R) => string,
  lists: string[] = [],
) {
  return async (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    const opts = params.at(-2) as O;
    const args = params.slice(0, -2) as string[];
    const options = globalOptions(command);
    const { tenant, ...rest } = opts;
    const input = rest as Record<string, unknown>;
    for (const key of lists) {
      if (typeof input[key] === 'string') {
        input[key] = (input[key] as string)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      }
    }
    const result = await withDatabase(configFrom(options), (db) =>
      fn({ db, actor: cliActor(), tenant, input: input as Omit<O, 'tenant'>, args }),
    );
    output(io, options, result, human);
  };
}

export function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '-');

/** Collects a repeatable option. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
