/** The pull connectors by kind (`assay connector add KIND`). */
import { AssayError } from '../errors.ts';
import { ldapConnector } from './ldap/ldap.connector.ts';
import { type PullConnector, type PullKind, pullKinds } from './pull.ts';

export const pullConnectors: Partial<Record<PullKind, PullConnector>> = {
  ldap: ldapConnector as unknown as PullConnector,
};

export function getPullConnector(kind: string): PullConnector {
  const connector = (pullConnectors as Record<string, PullConnector | undefined>)[kind];
  if (!connector) {
    throw new AssayError(
      'validation_failed',
      `unknown connector kind "${kind}" (expected one of ${pullKinds.join(', ')})`,
      { field: 'kind' },
    );
  }
  return connector;
}
