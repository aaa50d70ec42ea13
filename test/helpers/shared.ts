/**
 * The shared fixtures beside the project checkout (`../shared`): vendor samples, scenarios and
 * the NIST OSCAL schemas. CI clones the project with `shared/` beside it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const sharedDir = fileURLToPath(new URL('../../../shared/', import.meta.url));

export function sharedPath(relative: string): string {
  const path = `${sharedDir}${relative}`;
  if (!existsSync(path)) {
    throw new Error(
      `shared fixture ${relative} not found at ${path}: the shared/ folder must sit beside the checkout`,
    );
  }
  return path;
}
