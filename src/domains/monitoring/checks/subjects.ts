import type { Subject } from '../check.types.ts';
import type { IdentityView, PersonView } from '../facts.ts';

export function personSubject(person: PersonView): Subject {
  return {
    type: 'person',
    id: person.id,
    name: person.name,
    email: person.email,
    aliases: [person.employeeId],
  };
}

export function identitySubject(identity: IdentityView): Subject {
  const name =
    identity.principalType === 'root' ? 'root' : (identity.userName ?? identity.email ?? identity.externalId);
  const aliases = [identity.externalId, identity.displayName, identity.userName].filter(
    (a): a is string => typeof a === 'string' && a !== name,
  );
  if (identity.principalType === 'root') {
    aliases.push('<root_account>');
    const account = /^aws-iam:(\d+)$/.exec(identity.system)?.[1];
    if (account) aliases.push(account);
  }
  return {
    type: 'identity',
    id: identity.id,
    name,
    ...(identity.email ? { email: identity.email } : {}),
    system: identity.system,
    aliases: [...new Set(aliases)],
  };
}

export function repositorySubject(repository: string): Subject {
  return { type: 'repository', id: repository, name: repository };
}

export function organizationSubject(system: string, name: string): Subject {
  return { type: 'organization', id: `${system}`, name, system };
}

/** An account a person uses interactively: not root, not a declared or evident non-human one. */
export function isHumanAccount(identity: IdentityView): boolean {
  if (identity.principalType !== 'user') return false;
  if (identity.nonHuman) return false;
  if (identity.snapshot?.isHumanHint === false) return false;
  return true;
}

/** An account a directory or snapshot knows to exist (not only a name seen in someone's log). */
export function isDirectoryAccount(identity: IdentityView): boolean {
  return (
    identity.snapshot !== null ||
    identity.system === 'okta' ||
    identity.system.startsWith('aws-iam:') ||
    identity.system === 'google-workspace' ||
    identity.system.startsWith('ldap') ||
    identity.system.startsWith('scim')
  );
}

const emailLike = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function hasEmail(identity: IdentityView): boolean {
  return (
    Boolean(identity.email && emailLike.test(identity.email)) ||
    Boolean(identity.userName && emailLike.test(identity.userName))
  );
}

export function days(ms: number): number {
  return Math.floor(ms / (24 * 3600 * 1000));
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** A resource inside a system (a trail, a security group, a key), judged on its own. */
export function resourceSubject(system: string, kind: string, id: string, name: string): Subject {
  return { type: 'system', id: `${system}/${kind}/${id}`, name, system };
}
