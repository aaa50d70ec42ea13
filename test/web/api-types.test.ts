/** The web app's typed client is generated from the API; this fails when the committed types lag behind it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
// @ts-expect-error the generator is a plain script without type declarations
import { generateApiTypes, typesPath } from '../../scripts/generate-api-types.mjs';

test('web/src/api/schema.d.ts matches the OpenAPI document the API serves (npm run api:types)', async () => {
  const generated: string = await generateApiTypes();
  assert.ok(generated.includes('"/api/v1/workspaces/{workspace}/controls"'));
  assert.equal(readFileSync(typesPath, 'utf8'), generated, 'the API changed: run npm run api:types');
});
