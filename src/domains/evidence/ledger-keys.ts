/**
 * Each workspace's Ed25519 ledger keys: one current key signs checkpoints; a rotated-out key is
 * retired (it still verifies what it signed while current, see core/checkpoint.ts). Public keys
 * and lifetimes form the keyring that verification and auditors use.
 */
import type { Trx } from '../../db/database.ts';
import { generateSigningKey, type Keyring, type SigningKey } from './core/checkpoint.ts';

/**
 * Seals a ledger private key for storage.
 *
 * Stopgap until the secrets module (src/domains/secrets/, encryptSecret/decryptSecret under the
 * installation key) is wired in: the key is stored as `unsealed:v0:<PEM>`, i.e. NOT encrypted.
 * Switching this pair to encryptSecret/decryptSecret (context `ledger-key:<workspace>:<keyId>`)
 * is the only change needed; `unsealPrivateKey` must keep accepting the `unsealed:v0:` form so
 * that keys stored before the switch still load (and can be re-sealed).
 */
export function sealPrivateKey(
  privateKeyPem: string,
  _context: { workspaceId: string; keyId: string },
): string {
  return `unsealed:v0:${privateKeyPem}`;
}

export function unsealPrivateKey(sealed: string, _context: { workspaceId: string; keyId: string }): string {
  if (!sealed.startsWith('unsealed:v0:')) {
    throw new Error('ledger private key is in an unknown sealed format');
  }
  return sealed.slice('unsealed:v0:'.length);
}

export interface LedgerKey {
  keyId: string;
  publicKeyPem: string;
  createdAt: string;
  retiredAt: string | null;
}

function present(row: {
  key_id: string;
  public_key_pem: string;
  created_at: Date | string;
  retired_at: Date | string | null;
}): LedgerKey {
  return {
    keyId: row.key_id,
    publicKeyPem: row.public_key_pem,
    createdAt: new Date(row.created_at).toISOString(),
    retiredAt: row.retired_at === null ? null : new Date(row.retired_at).toISOString(),
  };
}

export async function listLedgerKeys(trx: Trx, workspaceId: string): Promise<LedgerKey[]> {
  const rows = await trx
    .selectFrom('evidence_signing_keys')
    .select(['key_id', 'public_key_pem', 'created_at', 'retired_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .execute();
  return rows.map(present);
}

export function keyringOf(keys: LedgerKey[]): Keyring {
  return {
    keys: keys.map((k) => ({
      keyId: k.keyId,
      publicKeyPem: k.publicKeyPem,
      createdAt: k.createdAt,
      ...(k.retiredAt === null ? {} : { retiredAt: k.retiredAt }),
    })),
  };
}

async function insertKey(trx: Trx, workspaceId: string, key: SigningKey, createdAt: Date): Promise<void> {
  await trx
    .insertInto('evidence_signing_keys')
    .values({
      workspace_id: workspaceId,
      key_id: key.keyId,
      public_key_pem: key.publicKeyPem,
      private_key_sealed: sealPrivateKey(key.privateKeyPem, { workspaceId, keyId: key.keyId }),
      created_at: createdAt,
    })
    .execute();
}

/**
 * The current signing key, created on first use. Callers hold the ledger head lock, so two
 * processes never create two current keys (a unique index enforces it as well).
 */
export async function currentSigningKey(
  trx: Trx,
  workspaceId: string,
  now: Date,
): Promise<LedgerKey & { privateKeyPem: string }> {
  const row = await trx
    .selectFrom('evidence_signing_keys')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('retired_at', 'is', null)
    .executeTakeFirst();
  if (row) {
    return {
      ...present(row),
      privateKeyPem: unsealPrivateKey(row.private_key_sealed, { workspaceId, keyId: row.key_id }),
    };
  }
  const key = generateSigningKey();
  await insertKey(trx, workspaceId, key, now);
  return {
    keyId: key.keyId,
    publicKeyPem: key.publicKeyPem,
    createdAt: now.toISOString(),
    retiredAt: null,
    privateKeyPem: key.privateKeyPem,
  };
}

/** Retires the current key (if any) at `now` and makes a fresh one current from `now`. */
export async function rotateLedgerKey(
  trx: Trx,
  workspaceId: string,
  now: Date,
): Promise<{ retired: LedgerKey | null; current: LedgerKey }> {
  const retiredRows = await trx
    .updateTable('evidence_signing_keys')
    .set({ retired_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('retired_at', 'is', null)
    .returning(['key_id', 'public_key_pem', 'created_at', 'retired_at'])
    .execute();
  const key = generateSigningKey();
  await insertKey(trx, workspaceId, key, now);
  return {
    retired: retiredRows[0] ? present(retiredRows[0]) : null,
    current: {
      keyId: key.keyId,
      publicKeyPem: key.publicKeyPem,
      createdAt: now.toISOString(),
      retiredAt: null,
    },
  };
}
