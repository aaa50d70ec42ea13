/** `assay scim token …` and `assay webhook …`: secrets shown once, listed without them, revocable. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliHarness } from '../helpers/cli.ts';

test('assay scim token create / list / revoke', async (t) => {
  const assay = await cliHarness(t);
  assert.equal((await assay('tenant', 'create', 'acme')).code, 0);
  const created = await assay('--json', 'scim', 'token', 'create', '--tenant', 'acme', '--directory', 'okta');
  assert.equal(created.code, 0, created.stderr);
  const token = created.json();
  assert.match(token.token, /^assay_scim_[A-Za-z0-9_-]{43}$/);
  assert.equal(token.system, 'scim:okta');
  assert.equal(token.basePath, '/scim/v2/acme');

  const text = await assay('scim', 'token', 'create', '--tenant', 'acme');
  assert.equal(text.code, 0);
  assert.match(text.stdout, /shown once/);
  assert.match(text.stdout, /scim:idp/);

  const listed = await assay('--json', 'scim', 'token', 'list', '--tenant', 'acme');
  assert.equal(listed.code, 0);
  assert.deepEqual(
    listed.json().tokens.map((t: { directory: string }) => t.directory),
    ['okta', 'idp'],
  );
  assert.equal(listed.stdout.includes(token.token), false, 'a listing never shows a token');

  assert.equal((await assay('scim', 'token', 'revoke', token.id, '--tenant', 'acme')).code, 0);
  const again = await assay('--json', 'scim', 'token', 'revoke', token.id, '--tenant', 'acme');
  assert.equal(again.code, 2);
  assert.equal(again.json().error.code, 'token_not_found');
  const bad = await assay('scim', 'token', 'create', '--tenant', 'acme', '--directory', 'Not Valid');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /directory/);
  assert.equal((await assay('scim', 'token', 'create', '--tenant', 'nowhere')).code, 2);
});

test('assay webhook secret create / list / revoke, and rejections', async (t) => {
  const assay = await cliHarness(t);
  assert.equal((await assay('tenant', 'create', 'acme')).code, 0);
  const created = await assay(
    '--json',
    'webhook',
    'secret',
    'create',
    '--tenant',
    'acme',
    '--source',
    'github',
  );
  assert.equal(created.code, 0, created.stderr);
  const secret = created.json();
  assert.match(secret.secret, /^[0-9a-f]{64}$/);
  assert.equal(secret.path, '/webhooks/github/acme');
  const generic = await assay('webhook', 'secret', 'create', '--tenant', 'acme', '--source', 'siem');
  assert.equal(generic.code, 0);
  assert.match(generic.stdout, /\/webhooks\/generic\/acme\/siem/);
  assert.match(generic.stdout, /X-Assay-Signature/);

  const listed = await assay('--json', 'webhook', 'secret', 'list', '--tenant', 'acme');
  assert.deepEqual(
    listed.json().secrets.map((s: { source: string }) => s.source),
    ['github', 'siem'],
  );
  assert.equal(listed.stdout.includes(secret.secret), false);
  assert.equal((await assay('webhook', 'secret', 'revoke', secret.id, '--tenant', 'acme')).code, 0);
  const revoked = await assay('--json', 'webhook', 'secret', 'list', '--tenant', 'acme');
  assert.notEqual(revoked.json().secrets[0].revokedAt, null);

  const rejections = await assay('--json', 'webhook', 'rejections', '--tenant', 'acme');
  assert.equal(rejections.code, 0);
  assert.deepEqual(rejections.json().rejections, []);
  assert.equal(
    (await assay('webhook', 'secret', 'create', '--tenant', 'acme', '--source', 'Bad Name')).code,
    2,
  );
  assert.equal((await assay('webhook', 'rejections', '--tenant', 'acme', '--limit', '0')).code, 2);
});
