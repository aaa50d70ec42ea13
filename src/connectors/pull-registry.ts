/** The pull connectors by kind (`assay connector add KIND`). */
import { AssayError } from '../errors.ts';
import { gitConnector } from './git/git.connector.ts';
import { ldapConnector } from './ldap/ldap.connector.ts';
import { isPullKind, type PullConnector, type PullKind, pullKinds } from './pull.ts';

// Each connector is typed by its own settings; the registry hands them out by kind.
export const pullConnectors: Readonly<Record<PullKind, PullConnector>> = {
  ldap: ldapConnector as unknown as PullConnector,
  git: gitConnector as unknown as PullConnector,
};

export function getPullConnector(kind: string): PullConnector {
  if (!isPullKind(kind)) {
    throw new AssayError(
      'validation_failed',
      `unknown connector kind "${kind}" (expected one of ${pullKinds.join(', ')})`,
      { field: 'kind' },
    );
  }
  return pullConnectors[kind];
}
