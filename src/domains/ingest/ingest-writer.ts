/**
 * Writes normalised import records into one workspace inside the caller's transaction: people,
 * identities and their observations, events (deduplicated by source key), entitlement changes.
 * Records are buffered and written in chunks with multi-row inserts; accounts are resolved once
 * per import through a cache.
 */
import { createHash } from 'node:crypto';
import type { Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type {
  EntitlementFact,
  IdentityFact,
  IdentityRef,
  ImportRecord,
  NormalizedEvent,
  PersonFact,
  RecordPosition,
} from '../events/event.model.ts';
import { appendEvidence } from '../evidence/append-evidence.ts';
import type { EvidenceInput } from '../evidence/envelope.ts';
import {
  enrichIdentity,
  findIdentity,
  type IdentityKey,
  insertEntitlementChange,
  insertIdentity,
  insertIdentityObservation,
  linkIdentitiesByEmail,
  observationUnchanged,
  setIdentityStatus,
  upsertPerson,
} from '../identity/identity.repository.ts';
import { type BatchCounts, type EventRow, findEventIds, insertEvents } from './ingest.repository.ts';

const chunkSize = 500;
// The ledger keeps raw payloads up to this size whole; larger ones are kept by hash only.
const maxRawEvidenceBytes = 256 * 1024;

/** An event's raw payload as received, preserved as ledger evidence (DESIGN §3 Events). */
function rawEventEvidence(row: EventRow): EvidenceInput {
  const { event } = row;
  const raw = JSON.stringify(event.raw ?? null);
  const content =
    Buffer.byteLength(raw) <= maxRawEvidenceBytes
      ? { source: event.source, sourceKey: event.sourceKey, action: event.action, raw: event.raw ?? null }
      : {
          source: event.source,
          sourceKey: event.sourceKey,
          action: event.action,
          rawSha256: createHash('sha256').update(raw).digest('hex'),
          rawBytes: Buffer.byteLength(raw),
        };
  const subjectId = row.targetIdentityId ?? row.actorIdentityId;
  return {
    kind: 'source.event',
    subject: subjectId ? { type: 'identity', id: subjectId } : { type: 'system', id: event.system },
    effectiveAt: event.time,
    collector: { type: 'connector', id: event.source },
    content,
  };
}

type Positioned<T> = { position: RecordPosition; value: T };

export class IngestWriter {
  readonly counts: BatchCounts = {
    recordsRead: 0,
    eventsStored: 0,
    duplicates: 0,
    people: 0,
    identities: 0,
    entitlementChanges: 0,
    rejected: 0,
  };
  /** Ids of events stored by this writer (new, not replays), for the monitors. */
  readonly storedEventIds: number[] = [];
  readonly #trx: Trx;
  readonly #workspaceId: string;
  readonly #batchId: string | null;
  readonly #identityCache = new Map<string, string>();
  #people: Positioned<PersonFact>[] = [];
  #identities: Positioned<IdentityFact>[] = [];
  #events: Positioned<NormalizedEvent>[] = [];
  #entitlements: Positioned<EntitlementFact>[] = [];

  constructor(trx: Trx, workspaceId: string, batchId: string | null) {
    this.#trx = trx;
    this.#workspaceId = workspaceId;
    this.#batchId = batchId;
  }

  async add(record: ImportRecord): Promise<void> {
    this.counts.recordsRead++;
    switch (record.type) {
      case 'person':
        this.#people.push({ position: record.position, value: record.person });
        break;
      case 'identity':
        this.#identities.push({ position: record.position, value: record.identity });
        break;
      case 'event':
        this.#events.push({ position: record.position, value: record.event });
        break;
      case 'entitlement':
        this.#entitlements.push({ position: record.position, value: record.entitlement });
        break;
      case 'rejected':
        this.counts.rejected++;
        return;
    }
    if (
      this.#people.length + this.#identities.length + this.#events.length + this.#entitlements.length >=
      chunkSize
    ) {
      await this.flush();
    }
  }

  async flush(): Promise<void> {
    const people = this.#people;
    const identities = this.#identities;
    const events = this.#events;
    const entitlements = this.#entitlements;
    this.#people = [];
    this.#identities = [];
    this.#events = [];
    this.#entitlements = [];
    for (const { position, value } of people) {
      await atPosition(position, async () => {
        if (await upsertPerson(this.#trx, this.#workspaceId, value)) this.counts.people++;
      });
    }
    await this.#writeIdentityFacts(identities);
    await this.#writeEvents(events);
    for (const { position, value } of entitlements) {
      await atPosition(position, () => this.#writeEntitlement(value));
    }
  }

  /** Flushes what is buffered and links accounts to people. */
  async finish(): Promise<void> {
    await this.flush();
    await linkIdentitiesByEmail(this.#trx, this.#workspaceId);
  }

  async #writeIdentityFacts(facts: Positioned<IdentityFact>[]) {
    const fresh: { identityId: string; fact: IdentityFact }[] = [];
    for (const { position, value: fact } of facts) {
      await atPosition(position, async () => {
        const identityId = await this.#resolve(
          {
            type: fact.type,
            system: fact.system,
            externalId: fact.externalId,
            userName: fact.userName,
            email: fact.email,
            displayName: fact.displayName,
          },
          fact.system,
          // The account existed from its creation, not only from when a report first listed it.
          fact.createdAt && fact.createdAt < fact.observedAt ? fact.createdAt : fact.observedAt,
        );
        if (!(await observationUnchanged(this.#trx, this.#workspaceId, identityId, fact))) {
          fresh.push({ identityId, fact });
        }
      });
    }
    if (fresh.length === 0) return;
    // Each new snapshot is preserved in the ledger as it was received.
    const evidence = await appendEvidence(
      this.#trx,
      this.#workspaceId,
      fresh.map(({ identityId, fact }) => ({
        kind: 'account.snapshot',
        subject: { type: 'identity', id: identityId, name: fact.userName },
        effectiveAt: fact.observedAt,
        collector: { type: 'connector', id: fact.source },
        content: fact,
      })),
    );
    for (const [index, { identityId, fact }] of fresh.entries()) {
      if (
        await insertIdentityObservation(
          this.#trx,
          this.#workspaceId,
          identityId,
          fact,
          this.#batchId,
          evidence[index]!.id,
        )
      ) {
        this.counts.identities++;
        await setIdentityStatus(this.#trx, this.#workspaceId, identityId, fact.status, fact.observedAt);
      }
    }
  }

  async #writeEvents(events: Positioned<NormalizedEvent>[]) {
    if (events.length === 0) return;
    const rows: EventRow[] = [];
    // Within one chunk a replayed key would make the multi-row insert ambiguous: keep the first.
    const seen = new Set<string>();
    for (const { position, value: event } of events) {
      const key = `${event.source}\u0000${event.sourceKey}`;
      if (seen.has(key)) {
        this.counts.duplicates++;
        continue;
      }
      seen.add(key);
      await atPosition(position, async () => {
        // HR events name people, not accounts: they join the graph through the roster's people.
        const isAccountEvent = event.system !== 'hr';
        const actorIdentityId =
          isAccountEvent && event.actor ? await this.#resolveRef(event.actor, event) : null;
        const targetIdentityId =
          isAccountEvent && event.target ? await this.#resolveRef(event.target, event) : null;
        rows.push({ event, actorIdentityId, targetIdentityId, evidenceId: null });
      });
    }
    // Replays are recognised before anything is written, so only new events reach the ledger.
    const known = new Set<string>();
    for (const source of new Set(rows.map((r) => r.event.source))) {
      const keys = rows.filter((r) => r.event.source === source).map((r) => r.event.sourceKey);
      for (const row of await findEventIds(this.#trx, this.#workspaceId, source, keys)) {
        known.add(`${source}\u0000${row.source_key}`);
      }
    }
    const fresh = rows.filter((r) => !known.has(`${r.event.source}\u0000${r.event.sourceKey}`));
    const evidence = await appendEvidence(this.#trx, this.#workspaceId, fresh.map(rawEventEvidence));
    for (const [index, row] of fresh.entries()) row.evidenceId = evidence[index]!.id;
    const inserted = await insertEvents(this.#trx, this.#workspaceId, this.#batchId, fresh);
    this.counts.eventsStored += inserted.length;
    this.counts.duplicates += rows.length - inserted.length;
    const newKeys = new Set(inserted.map((r) => `${r.source}\u0000${r.source_key}`));
    for (const r of inserted) this.storedEventIds.push(r.id);
    for (const row of rows) {
      const { event } = row;
      if (!newKeys.has(`${event.source}\u0000${event.sourceKey}`)) continue;
      if (event.accountStatus && row.targetIdentityId && event.outcome !== 'failure') {
        await setIdentityStatus(
          this.#trx,
          this.#workspaceId,
          row.targetIdentityId,
          event.accountStatus,
          event.time,
        );
      }
    }
  }

  async #writeEntitlement(fact: EntitlementFact) {
    const identityId = await this.#resolveRef(fact.identity, { system: fact.system, time: fact.at });
    let eventId: number | null = null;
    if (fact.eventSourceKey) {
      const [row] = await findEventIds(this.#trx, this.#workspaceId, fact.source, [fact.eventSourceKey]);
      eventId = row?.id ?? null;
    }
    const sourceKey = `${fact.eventSourceKey ?? `${fact.at}|${fact.system}`}|${fact.identity.externalId ?? fact.identity.userName ?? fact.identity.email ?? ''}|${fact.name}|${fact.granted ? '+' : '-'}`;
    if (await insertEntitlementChange(this.#trx, this.#workspaceId, identityId, fact, sourceKey, eventId)) {
      this.counts.entitlementChanges++;
    }
  }

  #resolveRef(ref: IdentityRef, context: { system: string; time: string }) {
    return this.#resolve(ref, ref.system ?? context.system, context.time);
  }

  async #resolve(ref: IdentityRef, system: string, seenAt: string): Promise<string> {
    const key: IdentityKey = {
      system,
      externalId: ref.externalId,
      userName: ref.userName,
      email: ref.email?.toLowerCase(),
    };
    const cacheKey = `${system}\u0000${key.externalId ?? ''}\u0000${key.userName ?? ''}\u0000${key.email ?? ''}`;
    const cached = this.#identityCache.get(cacheKey);
    if (cached) return cached;
    const existing = await findIdentity(this.#trx, this.#workspaceId, key);
    let id: string;
    if (existing) {
      id = existing.id;
      await enrichIdentity(this.#trx, this.#workspaceId, id, {
        userName: ref.userName,
        email: ref.email,
        displayName: ref.displayName,
        seenAt,
      });
    } else {
      const externalId = key.externalId ?? key.userName ?? key.email;
      if (!externalId) {
        throw new AssayError('import_rejected', 'an account is named without any id, user name or email', {
          field: 'identity',
        });
      }
      const row = await insertIdentity(this.#trx, this.#workspaceId, {
        system,
        externalId,
        userName: ref.userName,
        email: ref.email,
        displayName: ref.displayName,
        principalType: ref.type,
        seenAt,
      });
      id = row.id;
    }
    this.#identityCache.set(cacheKey, id);
    return id;
  }
}

/** Gives database-level failures the position of the record that caused them. */
async function atPosition<T>(position: RecordPosition, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const where = [position.file, position.line !== undefined ? `line ${position.line}` : undefined]
      .filter(Boolean)
      .join(' ');
    if (error instanceof AssayError) {
      if (error.code === 'import_rejected' && where && !error.message.startsWith(position.file ?? '\u0000')) {
        throw new AssayError('import_rejected', `${where}: ${error.message}`, {
          ...error.details,
          ...position,
        });
      }
      throw error;
    }
    throw new AssayError(
      'import_rejected',
      `${where || 'record'}: could not be stored: ${(error as Error).message}`,
      {
        ...position,
      },
    );
  }
}
