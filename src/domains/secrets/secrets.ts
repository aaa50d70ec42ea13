/**
 * Secrets at rest (connector credentials, webhook secrets, SSO client secrets, TOTP seeds) are
 * sealed with AES-256-GCM under one installation key: `ASSAY_SECRET_KEY`, or — on the embedded
 * database only — a key generated once into `<dataDir>/secret.key` (mode 0600). A PostgreSQL
 * installation must set the key explicitly, because every process has to share it.
 *
 * A sealed value is `assay-secret:v1:<key id>:<base64url(iv | ciphertext | tag)>`. The key id
 * tells a wrong key apart from tampering; the `context` (e.g. `oidc:<workspace>:client_secret`)
 * is bound in as additional authenticated data, so a sealed value copied to another row or
 * purpose does not decrypt. Plaintexts are never logged and never returned by the API.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { AssayError } from '../../errors.ts';

const prefix = 'assay-secret:v1:';
const ivBytes = 12;
const tagBytes = 16;

export interface SecretKey {
  readonly id: string;
  readonly bytes: Buffer;
}

/** Parses 32 bytes of key material given as 64 hex characters or base64. */
export function parseSecretKey(material: string): SecretKey {
  const text = material.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (bytes.length !== 32) {
    throw new AssayError('validation_failed', 'secret key: must be 32 bytes as 64 hex characters or base64', {
      field: 'ASSAY_SECRET_KEY',
    });
  }
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes };
}

export function encryptSecret(key: SecretKey, plaintext: string, context: string): string {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv, { authTagLength: tagBytes });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]);
  return `${prefix}${key.id}:${sealed.toString('base64url')}`;
}

export function decryptSecret(key: SecretKey, sealed: string, context: string): string {
  if (!sealed.startsWith(prefix)) {
    throw new AssayError('secret_undecryptable', `a stored secret (${context}) is not in the sealed format`);
  }
  const [keyId, data] = sealed.slice(prefix.length).split(':');
  if (keyId !== key.id) {
    throw new AssayError(
      'secret_undecryptable',
      `a stored secret (${context}) was sealed with another key (id ${keyId}, current ${key.id}): ` +
        'set ASSAY_SECRET_KEY (or <dataDir>/secret.key) back to the key that sealed it',
    );
  }
  const raw = Buffer.from(data ?? '', 'base64url');
  if (raw.length < ivBytes + tagBytes) {
    throw new AssayError('secret_undecryptable', `a stored secret (${context}) is truncated`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key.bytes, raw.subarray(0, ivBytes), {
    authTagLength: tagBytes,
  });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - tagBytes));
  try {
    return Buffer.concat([
      decipher.update(raw.subarray(ivBytes, raw.length - tagBytes)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new AssayError(
      'secret_undecryptable',
      `a stored secret (${context}) failed authentication: it was altered or belongs to another record`,
    );
  }
}

/** Seals and opens secrets with the installation key, resolved on first use. */
export interface SecretBox {
  encrypt(plaintext: string, context: string): string;
  decrypt(sealed: string, context: string): string;
  /** Resolves the key now (start-up), so a generated key is announced in the log at once. */
  ready(): SecretKey;
}

type KeyConfig = Pick<Config, 'secretKey' | 'dataDir' | 'databaseUrl'>;

export function openSecretBox(config: KeyConfig, log: (line: string) => void = () => {}): SecretBox {
  let key: SecretKey | undefined;
  const resolve = () => {
    key ??= resolveSecretKey(config, log);
    return key;
  };
  return {
    encrypt: (plaintext, context) => encryptSecret(resolve(), plaintext, context),
    decrypt: (sealed, context) => decryptSecret(resolve(), sealed, context),
    ready: resolve,
  };
}

export function resolveSecretKey(config: KeyConfig, log: (line: string) => void = () => {}): SecretKey {
  if (config.secretKey !== undefined) return parseSecretKey(config.secretKey);
  if (config.databaseUrl !== undefined) {
    throw new AssayError(
      'secret_key_missing',
      'ASSAY_SECRET_KEY is not set: with a PostgreSQL server every Assay process must share one key ' +
        '(generate one with `openssl rand -hex 32`)',
    );
  }
  const path = join(config.dataDir, 'secret.key');
  try {
    return parseSecretKey(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Written aside, then linked into place: link fails if another process won the race, and then
  // that process's key is the one to use.
  mkdirSync(config.dataDir, { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  try {
    linkSync(temp, path);
    log(`generated a new secret key in ${path} (mode 0600); back it up with the data directory`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  return parseSecretKey(readFileSync(path, 'utf8'));
}
