/**
 * Reading an LDAP directory: users and groups as plain values, with each user's disabled state
 * worked out from whichever convention the directory follows.
 *
 * Users (default filter: inetOrgPerson, posixAccount, or Active Directory `user` that is not a
 * `computer`) are named by `uid` (AD: `sAMAccountName`, else `userPrincipalName`, else `cn`), and
 * keyed by their stable id: `entryUUID` (OpenLDAP, 389 DS), `objectGUID` (AD), else the DN.
 *
 * An account is unusable ("deprovisioned") when any of these says so:
 * - `pwdAccountLockedTime` = `000001010000Z`: locked by an administrator (ppolicy); any other
 *   value is a lockout after failed sign-ins, which lifts by itself — "suspended";
 * - `shadowExpire` (days since 1970-01-01) on or before the pull date;
 * - `nsAccountLock: true` (389 DS, Red Hat IdM / FreeIPA);
 * - `userAccountControl` with bit 2 (ACCOUNTDISABLE) set, or `accountExpires` in the past (AD).
 *
 * Groups (groupOfNames `member`, groupOfUniqueNames `uniqueMember`, posixGroup `memberUid`, AD
 * `group` `member`) are read with their members; a group that is a member of another passes that
 * group on to its own members (nested groups, as AD and most LDAP-aware applications treat them).
 * Searches are paged (RFC 2696), so directories larger than the server's size limit read whole.
 */
import { Client, type Entry, InvalidCredentialsError } from 'ldapts';
import type { IdentityStatus } from '../../domains/events/event.model.ts';
import { AssayError } from '../../errors.ts';

export interface LdapSettings {
  url: string;
  bindDn: string;
  baseDn: string;
  userBaseDn?: string | undefined;
  groupBaseDn?: string | undefined;
  userFilter: string;
  groupFilter: string;
  pageSize: number;
  timeoutSeconds: number;
}

export const defaultUserFilter =
  '(|(objectClass=inetOrgPerson)(objectClass=posixAccount)(&(objectClass=user)(!(objectClass=computer))))';
export const defaultGroupFilter =
  '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))';

const userAttributes = [
  'objectClass',
  'uid',
  'sAMAccountName',
  'userPrincipalName',
  'mail',
  'cn',
  'displayName',
  'employeeNumber',
  'employeeID',
  'pwdAccountLockedTime',
  'shadowExpire',
  'nsAccountLock',
  'userAccountControl',
  'accountExpires',
  'entryUUID',
  'objectGUID',
  'createTimestamp',
  'modifyTimestamp',
  'whenCreated',
  'whenChanged',
];
const groupAttributes = [
  'objectClass',
  'cn',
  'member',
  'uniqueMember',
  'memberUid',
  'entryUUID',
  'objectGUID',
  'modifyTimestamp',
  'whenChanged',
];

export interface DirectoryUser {
  dn: string;
  /** entryUUID, objectGUID (as a GUID string) or, failing both, the DN. */
  id: string;
  userName: string;
  email?: string | undefined;
  displayName?: string | undefined;
  employeeNumber?: string | undefined;
  status: IdentityStatus;
  /** Which attribute made the account unusable, e.g. `userAccountControl`. */
  disabledBy?: string | undefined;
  /** When the directory says the state began, when it knows (a lock time, an expiry date). */
  statusSince?: string | undefined;
  createdAt?: string | undefined;
  modifiedAt?: string | undefined;
  /** The attributes read, as the directory returned them (the events' raw payload). */
  attributes: Record<string, string | string[]>;
}

export interface DirectoryGroup {
  dn: string;
  id: string;
  name: string;
  memberDns: string[];
  memberUids: string[];
  modifiedAt?: string | undefined;
}

export interface DirectorySnapshot {
  users: DirectoryUser[];
  groups: DirectoryGroup[];
}

// ---------------------------------------------------------------------------------------------
// Reading

export async function readDirectory(
  settings: LdapSettings,
  password: string,
  now: Date,
): Promise<DirectorySnapshot> {
  const client = new Client({
    url: settings.url,
    timeout: settings.timeoutSeconds * 1000,
    connectTimeout: settings.timeoutSeconds * 1000,
  });
  try {
    await client.bind(settings.bindDn, password).catch((error: unknown) => {
      throw failure(settings, 'bind', error);
    });
    const userEntries = await searchAll(client, settings, settings.userBaseDn ?? settings.baseDn, {
      filter: settings.userFilter,
      attributes: userAttributes,
    });
    const groupEntries = await searchAll(client, settings, settings.groupBaseDn ?? settings.baseDn, {
      filter: settings.groupFilter,
      attributes: groupAttributes,
    });
    return {
      users: userEntries.map((entry) => userFromEntry(entry, now)),
      groups: groupEntries.map(groupFromEntry),
    };
  } finally {
    await client.unbind().catch(() => {});
  }
}

async function searchAll(
  client: Client,
  settings: LdapSettings,
  base: string,
  options: { filter: string; attributes: string[] },
): Promise<Entry[]> {
  const entries: Entry[] = [];
  try {
    for await (const page of client.searchPaginated(base, {
      scope: 'sub',
      filter: options.filter,
      attributes: options.attributes,
      explicitBufferAttributes: ['objectGUID'],
      paged: { pageSize: settings.pageSize },
    })) {
      entries.push(...page.searchEntries);
    }
  } catch (error) {
    throw failure(settings, `search ${base} ${options.filter}`, error);
  }
  return entries;
}

function failure(settings: LdapSettings, step: string, error: unknown): AssayError {
  if (error instanceof AssayError) return error;
  const reason =
    error instanceof InvalidCredentialsError
      ? `the directory refused the bind DN "${settings.bindDn}" and its password`
      : error instanceof Error
        ? error.message || error.name
        : String(error);
  return new AssayError('connector_pull_failed', `LDAP ${settings.url}: ${step} failed: ${reason}`, {
    step,
  });
}

// ---------------------------------------------------------------------------------------------
// Entries to values

type Value = Entry[string];

function strings(value: Value | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))).filter((v) => v !== '');
}

function first(entry: Entry, name: string): string | undefined {
  return strings(attribute(entry, name))[0]?.trim() || undefined;
}

/** Attribute names are case-insensitive; servers return them as the schema spells them. */
function attribute(entry: Entry, name: string): Value | undefined {
  if (name in entry) return entry[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(entry)) if (key.toLowerCase() === lower) return entry[key];
  return undefined;
}

function hasObjectClass(entry: Entry, name: string): boolean {
  return strings(attribute(entry, 'objectClass')).some((c) => c.toLowerCase() === name.toLowerCase());
}

/** AD's objectGUID: 16 bytes, the first three groups little-endian. */
export function guidString(bytes: Buffer): string {
  if (bytes.length !== 16) return bytes.toString('hex');
  const hex = (b: Buffer) => b.toString('hex');
  const le = (start: number, end: number) => hex(Buffer.from(bytes.subarray(start, end)).reverse());
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(bytes.subarray(8, 10))}-${hex(bytes.subarray(10, 16))}`;
}

function stableId(entry: Entry): string {
  const uuid = first(entry, 'entryUUID');
  if (uuid) return uuid.toLowerCase();
  const guid = attribute(entry, 'objectGUID');
  const bytes = Array.isArray(guid) ? guid[0] : guid;
  if (Buffer.isBuffer(bytes) && bytes.length > 0) return guidString(bytes);
  return normalizeDn(entry.dn);
}

/**
 * RFC 4517 GeneralizedTime (`20261123113600Z`, `20260101120000.0Z`, `20261123113600+0100`) as
 * ISO 8601; undefined when it is not one.
 */
export function parseGeneralizedTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/.exec(
    value.trim(),
  );
  if (!m) return undefined;
  const [, y, mo, d, h, mi = '00', s = '00', fraction = '', zone = 'Z'] = m;
  const ms = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3, 5) || '00'}`;
  const parsed = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}${offset}`);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString();
}

/** AD `accountExpires`: 100-ns intervals since 1601-01-01; 0 and 2^63-1 mean never. */
export function parseFileTime(value: string | undefined): string | undefined {
  if (!value || !/^\d+$/.test(value)) return undefined;
  const ticks = BigInt(value);
  if (ticks === 0n || ticks >= 9223372036854775807n) return undefined;
  const ms = Number(ticks / 10000n) - 11644473600000;
  if (!Number.isFinite(ms) || ms < -8.64e15 || ms > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}

const adminLock = '000001010000Z';
const accountDisable = 0x2;
const day = 86_400_000;

function accountState(
  entry: Entry,
  now: Date,
): { status: IdentityStatus; disabledBy?: string; statusSince?: string } {
  const uac = first(entry, 'userAccountControl');
  if (uac && /^-?\d+$/.test(uac) && (Number(uac) & accountDisable) !== 0) {
    return { status: 'deprovisioned', disabledBy: 'userAccountControl' };
  }
  const adExpiry = parseFileTime(first(entry, 'accountExpires'));
  if (adExpiry && Date.parse(adExpiry) <= now.getTime()) {
    return { status: 'deprovisioned', disabledBy: 'accountExpires', statusSince: adExpiry };
  }
  if (first(entry, 'nsAccountLock')?.toLowerCase() === 'true') {
    return { status: 'deprovisioned', disabledBy: 'nsAccountLock' };
  }
  const shadowExpire = first(entry, 'shadowExpire');
  if (shadowExpire && /^\d+$/.test(shadowExpire) && Number(shadowExpire) > 0) {
    const expiresAt = Number(shadowExpire) * day;
    if (expiresAt <= now.getTime()) {
      return {
        status: 'deprovisioned',
        disabledBy: 'shadowExpire',
        statusSince: new Date(expiresAt).toISOString(),
      };
    }
  }
  const locked = first(entry, 'pwdAccountLockedTime');
  if (locked) {
    if (locked === adminLock) return { status: 'deprovisioned', disabledBy: 'pwdAccountLockedTime' };
    const since = parseGeneralizedTime(locked);
    return since
      ? { status: 'suspended', disabledBy: 'pwdAccountLockedTime', statusSince: since }
      : { status: 'suspended', disabledBy: 'pwdAccountLockedTime' };
  }
  return { status: 'active' };
}

function rawAttributes(entry: Entry): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { dn: entry.dn };
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'dn') continue;
    const list = Array.isArray(value) ? value : [value];
    const text = list.map((v) =>
      Buffer.isBuffer(v) ? (key === 'objectGUID' ? guidString(v) : v.toString('base64')) : String(v),
    );
    out[key] = text.length === 1 ? text[0]! : text;
  }
  return out;
}

export function userFromEntry(entry: Entry, now: Date): DirectoryUser {
  const userName =
    first(entry, 'uid') ??
    first(entry, 'sAMAccountName') ??
    first(entry, 'userPrincipalName') ??
    first(entry, 'cn') ??
    entry.dn;
  const state = accountState(entry, now);
  return {
    dn: entry.dn,
    id: stableId(entry),
    userName,
    email: first(entry, 'mail')?.toLowerCase(),
    displayName: first(entry, 'displayName') ?? first(entry, 'cn'),
    employeeNumber: first(entry, 'employeeNumber') ?? first(entry, 'employeeID'),
    ...state,
    createdAt: parseGeneralizedTime(first(entry, 'createTimestamp') ?? first(entry, 'whenCreated')),
    modifiedAt: parseGeneralizedTime(first(entry, 'modifyTimestamp') ?? first(entry, 'whenChanged')),
    attributes: rawAttributes(entry),
  };
}

export function groupFromEntry(entry: Entry): DirectoryGroup {
  const isPosix = hasObjectClass(entry, 'posixGroup');
  return {
    dn: entry.dn,
    id: stableId(entry),
    name: first(entry, 'cn') ?? entry.dn,
    memberDns: [...strings(attribute(entry, 'member')), ...strings(attribute(entry, 'uniqueMember'))].map(
      // groupOfUniqueNames may suffix a member with its unique identifier: `uid=a,dc=x#'0101'B`.
      (dn) => dn.replace(/#'[01]*'B$/, ''),
    ),
    memberUids:
      isPosix || attribute(entry, 'memberUid') !== undefined ? strings(attribute(entry, 'memberUid')) : [],
    modifiedAt: parseGeneralizedTime(first(entry, 'modifyTimestamp') ?? first(entry, 'whenChanged')),
  };
}

/**
 * A DN in a form two spellings of it share: lower-case, no spaces around separators. (Good enough
 * to match member values to entries; escaped commas are kept as they are.)
 */
export function normalizeDn(dn: string): string {
  return dn
    .trim()
    .split(/(?<!\\),/)
    .map((rdn) =>
      rdn
        .split(/(?<!\\)\+/)
        .map((ava) => {
          const at = ava.indexOf('=');
          return at < 0
            ? ava.trim().toLowerCase()
            : `${ava.slice(0, at).trim().toLowerCase()}=${ava
                .slice(at + 1)
                .trim()
                .toLowerCase()}`;
        })
        .join('+'),
    )
    .join(',');
}

/**
 * Each user's groups (by group name), nested groups included: a user in group B, itself a member
 * of group A, holds A as well. Cycles are harmless.
 */
export function membershipsByUser(snapshot: DirectorySnapshot): Map<string, Set<string>> {
  const userByDn = new Map(snapshot.users.map((u) => [normalizeDn(u.dn), u]));
  const userByName = new Map(snapshot.users.map((u) => [u.userName.toLowerCase(), u]));
  const groupByDn = new Map(snapshot.groups.map((g) => [normalizeDn(g.dn), g]));
  // Direct members of each group, and groups directly inside each group.
  const parentsOfGroup = new Map<string, DirectoryGroup[]>();
  const direct = new Map<string, Set<DirectoryGroup>>();
  for (const group of snapshot.groups) {
    for (const dn of group.memberDns) {
      const key = normalizeDn(dn);
      const user = userByDn.get(key);
      if (user) add(direct, user.id, group);
      const child = groupByDn.get(key);
      if (child && child !== group) {
        const list = parentsOfGroup.get(child.dn) ?? [];
        list.push(group);
        parentsOfGroup.set(child.dn, list);
      }
    }
    for (const uid of group.memberUids) {
      const user = userByName.get(uid.toLowerCase());
      if (user) add(direct, user.id, group);
    }
  }
  const result = new Map<string, Set<string>>();
  for (const user of snapshot.users) {
    const names = new Set<string>();
    const seen = new Set<DirectoryGroup>();
    const queue = [...(direct.get(user.id) ?? [])];
    while (queue.length > 0) {
      const group = queue.pop()!;
      if (seen.has(group)) continue;
      seen.add(group);
      names.add(group.name);
      queue.push(...(parentsOfGroup.get(group.dn) ?? []));
    }
    result.set(user.id, names);
  }
  return result;
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key) ?? new Set<V>();
  set.add(value);
  map.set(key, set);
}
