import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScimError } from './scim.errors.ts';
import { indexableEquality, matches, parseFilter, parsePatchPath } from './scim.filter.ts';

const user = {
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'Ext-1',
  userName: 'BJensen@example.com',
  name: { familyName: 'Jensen', givenName: 'Barbara' },
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Tour Operations' },
  meta: { lastModified: '2011-05-13T04:42:34Z' },
};

const check = (filter: string) => matches(user, parseFilter(filter));

function scimTypeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ScimError);
    return error.scimType;
  }
  assert.fail('expected a ScimError');
}

describe('SCIM filters', () => {
  it('compares case-insensitively, except ids', () => {
    assert.equal(check('userName eq "bjensen@EXAMPLE.com"'), true);
    assert.equal(
      check('USERNAME Eq "bjensen@example.com"'),
      true,
      'attribute names and operators in any case',
    );
    assert.equal(check('externalId eq "ext-1"'), false);
    assert.equal(check('externalId eq "Ext-1"'), true);
  });

  it('reads sub-attributes, multi-valued attributes, extension URNs and meta', () => {
    assert.equal(check('name.familyName co "ens"'), true);
    assert.equal(check('emails.value ew "jensen.org"'), true);
    assert.equal(check('emails co "babs"'), true, 'a complex value compares by its value');
    assert.equal(
      check('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw "Tour"'),
      true,
    );
    assert.equal(check('urn:ietf:params:scim:schemas:core:2.0:User:userName pr'), true);
    assert.equal(check('meta.lastModified gt "2011-05-13T04:42:33Z"'), true);
    assert.equal(check('meta.lastModified lt "2011-05-13T04:42:33Z"'), false);
    assert.equal(check('title pr'), false);
    assert.equal(check('title ne "x"'), true, 'an absent attribute is not equal to anything');
  });

  it('gives "and" precedence over "or", with grouping and not', () => {
    assert.equal(check('userName eq "x" and active eq true or name.givenName eq "Barbara"'), true);
    assert.equal(check('userName eq "x" and (active eq true or name.givenName eq "Barbara")'), false);
    assert.equal(check('not (active eq false) and emails[type eq "work" and primary eq true]'), true);
    assert.equal(check('emails[type eq "home" and primary eq true]'), false);
  });

  it('refuses malformed filters with invalidFilter, without deep recursion', () => {
    for (const bad of [
      '',
      'userName',
      'userName eq',
      'userName zz "a"',
      '(active pr',
      'active pr)',
      'a eq "b',
      'emails[type eq "w"',
    ]) {
      assert.equal(
        scimTypeOf(() => parseFilter(bad)),
        'invalidFilter',
        bad,
      );
    }
    assert.equal(
      scimTypeOf(() => parseFilter(`${'('.repeat(100)}active pr${')'.repeat(100)}`)),
      'invalidFilter',
    );
  });

  it('finds the equality the database can answer', () => {
    assert.deepEqual(indexableEquality(parseFilter('userName eq "A" and active eq true')), {
      attr: 'username',
      value: 'A',
    });
    assert.equal(indexableEquality(parseFilter('userName eq "A" or active eq true')), undefined);
  });
});

describe('SCIM PATCH paths', () => {
  it('parses attributes, sub-attributes, value filters and URN-qualified paths', () => {
    assert.deepEqual(parsePatchPath('name.givenName'), { attr: { attr: 'name', sub: 'givenName' } });
    const filtered = parsePatchPath('emails[type eq "work"].value');
    assert.deepEqual(filtered.attr, { attr: 'emails' });
    assert.equal(filtered.subAfterFilter, 'value');
    assert.equal(filtered.filter?.kind, 'compare');
    assert.deepEqual(
      parsePatchPath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value').attr,
      {
        urn: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
        attr: 'manager',
        sub: 'value',
      },
    );
    assert.deepEqual(parsePatchPath('members[value eq "2819c223-7f76-...413861904646"]').attr, {
      attr: 'members',
    });
  });

  it('refuses what is not a path', () => {
    for (const bad of [
      'emails[type eq "work"',
      'emails[]',
      'a b',
      'name.given.name',
      '9lives',
      'emails[type eq "w"]value',
    ]) {
      const type = scimTypeOf(() => parsePatchPath(bad));
      assert.ok(type === 'invalidPath' || type === 'invalidFilter', `${bad}: ${type}`);
    }
  });
});
