import type { TestContext } from 'node:test';
import { type App, buildApp } from '../../src/http/app.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

/** The API over a fresh test database, for `app.inject(...)`. */
export async function buildTestApp(t: TestContext): Promise<TestDatabase & { app: App }> {
  const testDb = await createTestDatabase(t);
  const app = await buildApp({ config: testDb.config, database: testDb.database });
  t.after(() => app.close());
  return { ...testDb, app };
}
