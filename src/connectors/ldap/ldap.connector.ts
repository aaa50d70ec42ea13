/**
 * The LDAP directory connector (`assay connector add ldap`): binds with a service account, reads
 * users and groups with paged searches, and records what changed since the last pull in the
 * identity graph (system `ldap:<connector name>`). See docs/connectors/ldap.md.
 */
import { FilterParser } from 'ldapts';
import { AssayError } from '../../errors.ts';
import { type PullConnector, rejectUnknownSettings, settingInteger, settingString } from '../pull.ts';
import { defaultGroupFilter, defaultUserFilter, type LdapSettings, readDirectory } from './ldap.directory.ts';
import { type DirectorySummary, directoryRecords, readPriorState } from './ldap.records.ts';

const knownSettings = [
  'url',
  'bindDn',
  'baseDn',
  'userBaseDn',
  'groupBaseDn',
  'userFilter',
  'groupFilter',
  'pageSize',
  'timeoutSeconds',
] as const;

const ldapUrl = /^ldaps?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?$/;
const dnLike = /^[^=,]+=[^,]*(,[^=,]+=.*)*$/;

function filter(input: Record<string, unknown>, field: string, fallback: string): string {
  const value = settingString(input, field) ?? fallback;
  try {
    FilterParser.parseString(value);
  } catch (error) {
    throw new AssayError(
      'validation_failed',
      `connector setting "${field}" is not an LDAP filter (RFC 4515): ${(error as Error).message}`,
      { field },
    );
  }
  return value;
}

export function parseLdapSettings(input: Record<string, unknown>): LdapSettings {
  rejectUnknownSettings(input, knownSettings);
  const dn = (field: string, required: boolean) =>
    settingString(input, field, { required, pattern: dnLike, patternHint: 'is not a distinguished name' });
  return {
    url: settingString(input, 'url', {
      required: true,
      pattern: ldapUrl,
      patternHint: 'must be ldap://host[:port] or ldaps://host[:port]',
    })!.replace(/\/$/, ''),
    bindDn: dn('bindDn', true)!,
    baseDn: dn('baseDn', true)!,
    userBaseDn: dn('userBaseDn', false),
    groupBaseDn: dn('groupBaseDn', false),
    userFilter: filter(input, 'userFilter', defaultUserFilter),
    groupFilter: filter(input, 'groupFilter', defaultGroupFilter),
    pageSize: settingInteger(input, 'pageSize', 500, { min: 1, max: 10_000 }),
    timeoutSeconds: settingInteger(input, 'timeoutSeconds', 30, { min: 1, max: 600 }),
  };
}

export const ldapConnector: PullConnector<LdapSettings> = {
  kind: 'ldap',
  description: 'LDAP directory (OpenLDAP, 389 DS, FreeIPA, Active Directory): users, groups, disabled state',
  credentialFields: ['password'],
  parseSettings: parseLdapSettings,
  async prepare(context) {
    const password = context.credentials.password;
    if (password === undefined) {
      throw new AssayError('validation_failed', `connector ${context.name}: no bind password is stored`, {
        field: 'password',
      });
    }
    const snapshot = await readDirectory(context.settings, password, new Date(context.observedAt));
    const system = `ldap:${context.name}`;
    let summary: DirectorySummary | undefined;
    return {
      async *records(trx) {
        const prior = await readPriorState(trx, context.workspaceId, system);
        const result = directoryRecords({
          system,
          snapshot,
          prior,
          firstPull: context.cursor === null,
          lastPulledAt: context.lastPulledAt,
          observedAt: context.observedAt,
        });
        summary = result.summary;
        yield* result.records;
      },
      cursor() {
        return { users: snapshot.users.length, groups: snapshot.groups.length, pulledAt: context.observedAt };
      },
      summary() {
        return { system, ...(summary ?? {}) };
      },
    };
  },
};
