/**
 * Signed checkpoints (tree heads) for a workspace's evidence ledger, Ed25519 via node:crypto.
 *
 * The signed body is a text note in the style of C2SP tlog-checkpoint / signed-note, every line
 * ending in "\n" (no other whitespace at line ends, ASCII only):
 *
 *   assay/<workspaceId>          origin: which ledger this is
 *   <treeSize>                   decimal, no leading zeros
 *   <rootHash>                   standard base64 (with padding) of the 32-byte RFC 9162 root
 *   issued-at <ISO 8601 UTC>     e.g. 2024-05-01T12:00:00.000Z
 *   key <keyId>                  which ledger key signed it
 *
 * The signature is a plain Ed25519 signature over exactly these bytes, carried as base64 next to
 * the body. Anyone can check it with `openssl pkeyutl -verify -pubin -rawin` (see
 * docs/evidence-verification.md). keyId is the first 16 hex characters of SHA-256 over the
 * key's DER SubjectPublicKeyInfo, so it can be recomputed from the PEM with openssl too.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { AssayError } from '../../../errors.ts';

export interface SigningKey {
  keyId: string;
  publicKeyPem: string;
  privateKeyPem: string;
}

export interface CheckpointFields {
  workspaceId: string;
  treeSize: number;
  /** Lowercase hex of the 32-byte Merkle root. */
  rootHash: string;
  /** ISO 8601 UTC timestamp with a `Z` suffix, as produced by `Date.prototype.toISOString`. */
  issuedAt: string;
  keyId: string;
}

export interface KeyringEntry {
  keyId: string;
  publicKeyPem: string;
  /** ISO 8601 UTC: checkpoints claiming an earlier issue time are refused. */
  createdAt: string;
  /** ISO 8601 UTC: checkpoints issued after this instant are refused. */
  retiredAt?: string;
}

export interface Keyring {
  keys: KeyringEntry[];
}

export type KeyringVerification =
  | { ok: true; keyId: string; checkpoint: CheckpointFields }
  | {
      ok: false;
      reason: 'malformed_checkpoint' | 'unknown_key' | 'key_not_yet_valid' | 'key_retired' | 'bad_signature';
      message: string;
    };

const ORIGIN_PREFIX = 'assay/';
const WORKSPACE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const ROOT_HEX = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const BASE64_ROOT = /^[A-Za-z0-9+/]{43}=$/;

function invalid(message: string): never {
  throw new AssayError('validation_failed', message);
}

/** A real instant in ISO 8601 UTC (rejects 2024-02-30, 24:00 and other roll-overs). */
function isIsoUtc(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === value.slice(0, 19);
}

/** keyId of a public key: hex SHA-256 of its DER SubjectPublicKeyInfo, first 16 characters. */
export function keyIdFromPublicKey(publicKeyPem: string | KeyObject): string {
  const key = typeof publicKeyPem === 'string' ? createPublicKey(publicKeyPem) : publicKeyPem;
  const spki = key.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex').slice(0, 16);
}

/** A fresh Ed25519 ledger signing key. */
export function generateSigningKey(): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdFromPublicKey(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The exact text that is signed. Validates every field so the format stays unambiguous. */
export function checkpointBody(fields: CheckpointFields): string {
  const { workspaceId, treeSize, rootHash, issuedAt, keyId } = fields;
  if (typeof workspaceId !== 'string' || !WORKSPACE_ID.test(workspaceId)) {
    invalid('workspaceId must be 1-200 characters of letters, digits, ".", "_", ":" or "-"');
  }
  if (!Number.isSafeInteger(treeSize) || treeSize < 0)
    invalid('treeSize must be a non-negative safe integer');
  if (typeof rootHash !== 'string' || !ROOT_HEX.test(rootHash))
    invalid('rootHash must be 64 lowercase hex characters');
  if (!isIsoUtc(issuedAt))
    invalid('issuedAt must be an ISO 8601 UTC timestamp such as 2024-05-01T12:00:00.000Z');
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) invalid('keyId must be 16 lowercase hex characters');
  const rootB64 = Buffer.from(rootHash, 'hex').toString('base64');
  return `${ORIGIN_PREFIX}${workspaceId}\n${treeSize}\n${rootB64}\nissued-at ${issuedAt}\nkey ${keyId}\n`;
}

/** Parses a checkpoint body; throws `validation_failed` naming the bad line. */
export function parseCheckpointBody(body: string | Uint8Array): CheckpointFields {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  if (!text.endsWith('\n')) invalid('checkpoint body must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length !== 5) invalid(`checkpoint body must have 5 lines, found ${lines.length}`);
  const [origin, size, root, issued, key] = lines as [string, string, string, string, string];
  if (!origin.startsWith(ORIGIN_PREFIX)) invalid(`line 1 must be the origin "${ORIGIN_PREFIX}<workspaceId>"`);
  if (!DECIMAL.test(size)) invalid('line 2 must be the tree size in decimal');
  if (!BASE64_ROOT.test(root)) invalid('line 3 must be the base64 of a 32-byte root hash');
  if (!issued.startsWith('issued-at ')) invalid('line 4 must be "issued-at <ISO 8601 UTC>"');
  if (!key.startsWith('key ')) invalid('line 5 must be "key <keyId>"');
  const fields: CheckpointFields = {
    workspaceId: origin.slice(ORIGIN_PREFIX.length),
    treeSize: Number(size),
    rootHash: Buffer.from(root, 'base64').toString('hex'),
    issuedAt: issued.slice('issued-at '.length),
    keyId: key.slice('key '.length),
  };
  // Re-rendering must give back the same text: rejects anything non-canonical (e.g. huge sizes,
  // non-zero base64 padding bits) that would let two bodies mean the same checkpoint.
  if (checkpointBody(fields) !== text) invalid('checkpoint body is not in canonical form');
  return fields;
}

// Parsing PEM costs more than verifying; ledgers verify many checkpoints against few keys.
const keyCache = new Map<string, KeyObject>();
function cachedKey(pem: string, kind: 'public' | 'private'): KeyObject {
  const cacheKey = `${kind}:${pem}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = kind === 'public' ? createPublicKey(pem) : createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519')
      invalid(`ledger keys must be Ed25519, got ${key.asymmetricKeyType}`);
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

function bodyBytes(body: string | Uint8Array): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
}

/** Ed25519 signature over the body bytes, standard base64. */
export function signCheckpoint(body: string | Uint8Array, privateKeyPem: string): string {
  return sign(null, bodyBytes(body), cachedKey(privateKeyPem, 'private')).toString('base64');
}

/** True only for a valid Ed25519 signature over exactly these bytes. Never throws on bad input. */
export function verifyCheckpoint(
  body: string | Uint8Array,
  signatureB64: string,
  publicKeyPem: string,
): boolean {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return false;
  if (typeof signatureB64 !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(signatureB64)) return false;
  const signature = Buffer.from(signatureB64, 'base64');
  // Reject non-canonical base64 (stray padding bits) so one signature has one spelling.
  if (signature.length !== 64 || signature.toString('base64') !== signatureB64) return false;
  let key: KeyObject;
  try {
    key = cachedKey(publicKeyPem, 'public');
  } catch {
    return false;
  }
  return verify(null, bodyBytes(body), key, signature);
}

/**
 * Verifies a checkpoint against a keyring: the key named in the body must be in the ring, its
 * public key must hash to that keyId, the checkpoint's issue time must fall within the key's
 * lifetime [createdAt, retiredAt], and the signature must verify. A retired key therefore
 * still verifies what it signed while it was current, but nothing it signs later.
 */
export function verifyCheckpointWithKeyring(
  body: string | Uint8Array,
  signatureB64: string,
  keyring: Keyring,
): KeyringVerification {
  let fields: CheckpointFields;
  try {
    fields = parseCheckpointBody(body);
  } catch (err) {
    return { ok: false, reason: 'malformed_checkpoint', message: (err as Error).message };
  }
  const entry = keyring.keys.find((k) => k.keyId === fields.keyId);
  if (!entry)
    return { ok: false, reason: 'unknown_key', message: `No ledger key ${fields.keyId} in the keyring` };
  let actualId: string;
  try {
    actualId = keyIdFromPublicKey(cachedKey(entry.publicKeyPem, 'public'));
  } catch {
    return {
      ok: false,
      reason: 'unknown_key',
      message: `Keyring entry ${entry.keyId} holds no usable Ed25519 key`,
    };
  }
  if (actualId !== entry.keyId) {
    return {
      ok: false,
      reason: 'unknown_key',
      message: `Keyring entry ${entry.keyId} holds key ${actualId}`,
    };
  }
  const issued = Date.parse(fields.issuedAt);
  if (!isIsoUtc(entry.createdAt) || issued < Date.parse(entry.createdAt)) {
    return {
      ok: false,
      reason: 'key_not_yet_valid',
      message: `Checkpoint issued at ${fields.issuedAt}, before key ${entry.keyId} was created (${entry.createdAt})`,
    };
  }
  if (entry.retiredAt !== undefined && (!isIsoUtc(entry.retiredAt) || issued > Date.parse(entry.retiredAt))) {
    return {
      ok: false,
      reason: 'key_retired',
      message: `Checkpoint issued at ${fields.issuedAt}, after key ${entry.keyId} was retired (${entry.retiredAt})`,
    };
  }
  if (!verifyCheckpoint(body, signatureB64, entry.publicKeyPem)) {
    return { ok: false, reason: 'bad_signature', message: `Signature by key ${entry.keyId} does not verify` };
  }
  return { ok: true, keyId: entry.keyId, checkpoint: fields };
}
