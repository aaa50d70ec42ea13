import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { createTestDatabase } from './database.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the command printed
  json: () => any;
}

/**
 * Runs `assay` commands in-process against a database of their own: a fresh PostgreSQL database
 * when the suite runs against a server, otherwise an embedded data directory in a temp folder.
 */
export async function cliHarness(t: TestContext) {
  const { url } = await createTestDatabaseForCli(t);
  // With a PostgreSQL server every process must be given the installation key (the embedded
  // database generates one into its data directory); the in-process CLI reads it from the env.
  if (url) process.env.ASSAY_SECRET_KEY ??= randomBytes(32).toString('hex');
  const dataDir = join(mkdtempSync(join(tmpdir(), 'assay-cli-')), 'data');
  const target = url ? ['--database-url', url] : ['--data', dataDir];
  return async function assay(...args: string[]): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const code = await main(['node', 'assay', ...target, ...args], {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  };
}

async function createTestDatabaseForCli(t: TestContext): Promise<{ url: string | undefined }> {
  const testDb = await createTestDatabase(t);
  return { url: testDb.url };
}
