/** Shared steps of the security tests: people with passwords, cookies out of responses. */
import type { LightMyRequestResponse } from 'fastify';
import type { Database } from '../../src/db/database.ts';
import { createUser } from '../../src/domains/accounts/users.service.ts';

export const strongPassword = 'violet-harbour-engine-42';

export async function personWithPassword(
  database: Database,
  email: string,
  options: { platformAdmin?: boolean } = {},
) {
  return createUser(
    database,
    { type: 'cli', id: 'test-operator' },
    {
      email,
      password: strongPassword,
      platformAdmin: options.platformAdmin,
    },
  );
}

/** The Set-Cookie headers of a response, by cookie name. */
export function setCookies(response: LightMyRequestResponse): Map<string, string> {
  const raw = response.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  return new Map(list.map((line) => [line.split('=')[0]!, line]));
}

export function cookieValue(response: LightMyRequestResponse, name: string): string | undefined {
  const line = setCookies(response).get(name);
  if (line === undefined) return undefined;
  return decodeURIComponent(line.slice(name.length + 1).split(';')[0]!);
}
