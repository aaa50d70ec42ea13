import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SAMPLES } from '../shared/testing.ts';
import { ScimError } from './scim.errors.ts';
import { applyPatch, readPatchRequest } from './scim.patch.ts';
import { readUser } from './scim.resource.ts';
import { enterpriseUserAttributes, userAttributes } from './scim.schemas.ts';

const schema = { core: userAttributes, extension: enterpriseUserAttributes };
const patchUrn = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const enterpriseUrn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const patch = (resource: Record<string, unknown>, Operations: unknown[]) =>
  readUser(applyPatch(resource, schema, readPatchRequest({ schemas: [patchUrn], Operations })), true)
    .resource;

const base = () =>
  readUser(
    {
      userName: 'ann@example.com',
      name: { givenName: 'Ann', familyName: 'Lee' },
      emails: [{ value: 'ann@example.com', type: 'work', primary: true }],
    },
    true,
  ).resource;

describe('SCIM PATCH', () => {
  it('reads the RFC 7644 samples', () => {
    const add = JSON.parse(
      readFileSync(`${SAMPLES}/scim/scim2models_rfc7644-3.5.2.1-patch_op-add_members.json`, 'utf8'),
    );
    const remove = JSON.parse(
      readFileSync(`${SAMPLES}/scim/scim2models_rfc7644-3.5.2.2-patch_op-remove_one_member.json`, 'utf8'),
    );
    const [addOp] = readPatchRequest(add);
    assert.equal(addOp?.op, 'add');
    assert.deepEqual(addOp?.path?.attr, { attr: 'members' });
    const [removeOp] = readPatchRequest(remove);
    assert.equal(removeOp?.op, 'remove');
    assert.equal(removeOp?.path?.filter?.kind, 'compare');
  });

  it("takes Entra's capitalised ops and string booleans", () => {
    const out = patch(base(), [
      { op: 'Replace', path: 'active', value: 'False' },
      { op: 'Add', path: 'emails[type eq "work"].primary', value: 'True' },
    ]);
    assert.equal(out.active, false);
    assert.deepEqual(out.emails, [{ value: 'ann@example.com', type: 'work', primary: true }]);
  });

  it('merges complex values and keeps unnamed sub-attributes; replaces multi-valued ones whole', () => {
    const out = patch(base(), [
      { op: 'replace', value: { name: { givenName: 'Anne' } } },
      { op: 'replace', path: 'emails', value: [{ value: 'new@example.com', type: 'work' }] },
    ]);
    assert.deepEqual(out.name, { givenName: 'Anne', familyName: 'Lee' });
    assert.deepEqual(out.emails, [{ value: 'new@example.com', type: 'work' }]);
  });

  it('adds to multi-valued attributes without duplicating a value', () => {
    const out = patch(base(), [
      { op: 'add', path: 'emails', value: [{ value: 'ann@example.com', type: 'work', display: 'Ann' }] },
      { op: 'add', path: 'emails', value: { value: 'home@example.com', type: 'home' } },
    ]);
    assert.deepEqual(out.emails, [
      { value: 'ann@example.com', type: 'work', primary: true, display: 'Ann' },
      { value: 'home@example.com', type: 'home' },
    ]);
  });

  it('creates the element an equality filter names when none matches, and removes through filters', () => {
    let out = patch(base(), [{ op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555' }]);
    assert.deepEqual(out.phoneNumbers, [{ type: 'mobile', value: '+1 555' }]);
    out = patch(out, [{ op: 'remove', path: 'phoneNumbers[type eq "mobile"]' }]);
    assert.deepEqual(out.phoneNumbers, []);
    out = patch(out, [{ op: 'remove', path: 'phoneNumbers[type eq "mobile"]' }]);
    assert.deepEqual(out.phoneNumbers, [], 'removing what is not there succeeds');
  });

  it('writes the enterprise extension by URN path, by nested object and with a bare manager id', () => {
    const out = patch(base(), [
      { op: 'add', path: `${enterpriseUrn}:department`, value: 'Finance' },
      { op: 'replace', value: { [enterpriseUrn]: { employeeNumber: '42' } } },
      { op: 'replace', path: `${enterpriseUrn}:manager`, value: 'mgr-1' },
    ]);
    assert.deepEqual(out[enterpriseUrn], {
      department: 'Finance',
      employeeNumber: '42',
      manager: { value: 'mgr-1' },
    });
    const removed = patch(out, [{ op: 'remove', path: `${enterpriseUrn}:manager` }]);
    assert.deepEqual(removed[enterpriseUrn], { department: 'Finance', employeeNumber: '42' });
  });

  it('ignores server-owned attributes and never keeps a password', () => {
    const out = patch(base(), [
      { op: 'replace', value: { id: 'other', meta: {}, password: 'secret', displayName: 'Ann Lee' } },
      { op: 'replace', path: 'password', value: 'secret2' },
    ]);
    assert.equal(out.id, undefined);
    assert.equal(out.password, undefined);
    assert.equal(out.displayName, 'Ann Lee');
  });

  it('refuses bad operations with the SCIM error type', () => {
    const typeOf = (Operations: unknown) => {
      try {
        patch(base(), Operations as unknown[]);
      } catch (error) {
        assert.ok(error instanceof ScimError, String(error));
        return error.scimType;
      }
      return undefined;
    };
    assert.equal(typeOf([{ op: 'move', path: 'x', value: 1 }]), 'invalidSyntax');
    assert.equal(typeOf([{ op: 'remove' }]), 'noTarget');
    assert.equal(typeOf([{ op: 'add', path: 'title' }]), 'invalidValue');
    assert.equal(typeOf([{ op: 'replace', path: 'active', value: 'maybe' }]), 'invalidValue');
    assert.equal(typeOf([{ op: 'remove', path: 'userName' }]), 'invalidValue');
    assert.equal(typeOf('not a list'), 'invalidSyntax');
  });
});
