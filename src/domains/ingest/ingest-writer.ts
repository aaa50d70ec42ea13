/**
 * Writes normalised import records into one workspace inside the caller's transaction: people,
 * identities and their observations, events (deduplicated by source key), entitlement changes.
 * Records are buffered and written in chunks with multi-row inserts. The accounts a chunk names
 * are resolved together before it is written — one lookup per system, one insert of the new ones,
 * one update of what the chunk tells about known ones — and then once per import through a cache;
 * so are the events entitlement changes cite, and the entitlement changes themselves. Whatever
 * the batched path cannot settle (a record naming no account at all, a row the database refuses)
 * falls back to the record-by-record path, which reports the record's position.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
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
import { appendPrepared, type PreparedAppend, prepareAppend } from '../evidence/append-evidence.ts';
import { CanonicalContent, type EvidenceInput } from '../evidence/envelope.ts';
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

// Records written per chunk. Two chunks are alive at once (one written while the next is read);
// at 1,000 their objects mostly die young, which keeps a large import's memory flat (under
// 512 MB with the embedded database in the same process) at no cost in speed.
const chunkSize = 1000;
// The ledger keeps raw payloads up to this size whole; larger ones are kept by hash only.
const maxRawEvidenceBytes = 256 * 1024;

/** An event's raw payload as received, as the content of its ledger evidence (DESIGN §3 Events). */
interface RawEvidence {
  content: CanonicalContent;
  /** Whether the ledger keeps the payload whole (else only its hash, and the event row keeps it). */
  rawInLedger: boolean;
}

/**
 * Serialises and hashes an event's evidence content. An import does this as it reads each
 * record, so that the work overlaps the database's writing of the previous chunk.
 */
function rawEvidence(event: NormalizedEvent, position: RecordPosition): RawEvidence {
  const raw = JSON.stringify(event.raw ?? null);
  const rawInLedger = Buffer.byteLength(raw) <= maxRawEvidenceBytes;
  const content = rawInLedger
    ? { source: event.source, sourceKey: event.sourceKey, action: event.action, raw: event.raw ?? null }
    : {
        source: event.source,
        sourceKey: event.sourceKey,
        action: event.action,
        rawSha256: createHash('sha256').update(raw).digest('hex'),
        rawBytes: Buffer.byteLength(raw),
      };
  try {
    return { content: new CanonicalContent('content', content), rawInLedger };
  } catch (error) {
    if (!(error instanceof AssayError)) throw error;
    // A lone surrogate escape in a string, say: JSON allows it, canonical JSON does not.
    throw new AssayError(
      'import_rejected',
      `${describePosition(position) || 'record'}: the event cannot be kept as evidence: ${error.message.replace(/^content: /, '')}`,
      { ...position },
    );
  }
}

function rawEventEvidence(row: EventRow, evidence: RawEvidence): EvidenceInput {
  const { event } = row;
  // A payload the ledger keeps whole is not repeated on the event row (see insertEvents).
  row.rawInLedger = evidence.rawInLedger;
  const subjectId = row.targetIdentityId ?? row.actorIdentityId;
  return {
    kind: 'source.event',
    subject: subjectId ? { type: 'identity', id: subjectId } : { type: 'system', id: event.system },
    effectiveAt: event.time,
    collector: { type: 'connector', id: event.source },
    content: evidence.content,
  };
}

/** Whether an ingest that wrote these counts grew the tables the planner must then resample. */
export function ingestGrewTables(counts: BatchCounts): boolean {
  return counts.eventsStored > 0 || counts.identities > 0 || counts.people > 0;
}

type Positioned<T> = { position: RecordPosition; value: T };
type PositionedEvent = Positioned<NormalizedEvent> & { evidence: RawEvidence };

/** What the events a writer stored (new, not replays) name: what their checks are scoped by. */
export interface StoredEventFacts {
  classUids: Set<number>;
  /** Accounts named as actor or target (at most `maxTrackedAccounts`: past that, scoping is moot). */
  accounts: Set<string>;
  /** False once a stored event names no account (an HR record, a repository setting). */
  everyEventNamesAnAccount: boolean;
}

const maxTrackedAccounts = 10_000;
// Past this many accounts named, linking them by id is no cheaper than linking the workspace's.
const maxNamedAccountsLinked = 20_000;

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
  readonly stored: StoredEventFacts = {
    classUids: new Set(),
    accounts: new Set(),
    everyEventNamesAnAccount: true,
  };
  readonly #trx: Trx;
  readonly #workspaceId: string;
  readonly #batchId: string | null;
  readonly #identityCache = new Map<string, string>();
  #savepoints = 0;
  #peopleWritten = false;
  #people: Positioned<PersonFact>[] = [];
  #identities: Positioned<IdentityFact>[] = [];
  #events: PositionedEvent[] = [];
  #entitlements: Positioned<EntitlementFact>[] = [];
  readonly #pipeline: boolean;
  /** The chunk being written while the next one is read (pipelined writers only). */
  #writing: Promise<void> | null = null;
  /**
   * Evidence prepared (ids fixed, cited by the rows written) but not yet appended: the ledger
   * head of the workspace is locked by an append until the transaction ends, so a small batch
   * appends last, and a large one as each chunk's worth is reached.
   */
  #pendingEvidence: PreparedAppend[] = [];
  #pendingItems = 0;

  /**
   * With `pipeline`, a full chunk is written while the caller goes on reading the next one, so
   * parsing overlaps the database's work. The caller must then `settle()` before it lets the
   * transaction end on an error, so that no statement of the writer runs after a rollback.
   */
  constructor(trx: Trx, workspaceId: string, batchId: string | null, options: { pipeline?: boolean } = {}) {
    this.#trx = trx;
    this.#workspaceId = workspaceId;
    this.#batchId = batchId;
    this.#pipeline = options.pipeline ?? false;
  }

  /** Waits for the chunk being written, if any, whatever its outcome. */
  async settle(): Promise<void> {
    await this.#writing?.catch(() => {});
    this.#writing = null;
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
        this.#events.push({
          position: record.position,
          value: record.event,
          evidence: rawEvidence(record.event, record.position),
        });
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
      if (!this.#pipeline) return this.flush();
      // One chunk in flight at a time: its failure surfaces here, at the next full chunk.
      await this.#drain();
      const writing = this.#writeBuffered();
      writing.catch(() => {});
      this.#writing = writing;
    }
  }

  async #drain(): Promise<void> {
    const writing = this.#writing;
    this.#writing = null;
    await writing;
  }

  async flush(): Promise<void> {
    await this.#drain();
    await this.#writeBuffered();
  }

  async #writeBuffered(): Promise<void> {
    const people = this.#people;
    const identities = this.#identities;
    const events = this.#events;
    const entitlements = this.#entitlements;
    this.#people = [];
    this.#identities = [];
    this.#events = [];
    this.#entitlements = [];
    await this.#prefetchAccounts(identities, events, entitlements);
    if (people.length > 0) this.#peopleWritten = true;
    for (const { position, value } of people) {
      await atPosition(position, async () => {
        if (await upsertPerson(this.#trx, this.#workspaceId, value)) this.counts.people++;
      });
    }
    await this.#writeIdentityFacts(identities);
    await this.#writeEvents(events);
    await this.#writeEntitlements(entitlements);
  }

  /**
   * Flushes what is buffered, links accounts to people and appends the evidence still pending.
   * With `ledgerLast`, the pending evidence stays for the caller to append with
   * `appendPendingEvidence()` as the last step of its transaction.
   */
  async finish(options: { ledgerLast?: boolean } = {}): Promise<void> {
    await this.flush();
    // People written can link any account; without them, only the accounts this batch named can
    // have become linkable (a new account, or an email learnt).
    const named = [...new Set(this.#identityCache.values())];
    if (this.#peopleWritten || named.length > maxNamedAccountsLinked) {
      await linkIdentitiesByEmail(this.#trx, this.#workspaceId);
    } else if (named.length > 0) {
      await linkIdentitiesByEmail(this.#trx, this.#workspaceId, named);
    }
    if (!options.ledgerLast) await this.appendPendingEvidence();
  }

  /** Appends the prepared evidence, in the order it was prepared. */
  async appendPendingEvidence(): Promise<void> {
    const pending = this.#pendingEvidence;
    this.#pendingEvidence = [];
    this.#pendingItems = 0;
    for (const prepared of pending) await appendPrepared(this.#trx, prepared);
  }

  /** Prepares evidence for the ledger and returns its ids; the append itself may come later. */
  async #toLedger(inputs: EvidenceInput[]): Promise<string[]> {
    const prepared = await prepareAppend(this.#trx, this.#workspaceId, inputs);
    await this.#queueForLedger(prepared);
    return prepared.ids;
  }

  async #queueForLedger(prepared: PreparedAppend): Promise<void> {
    if (prepared.ids.length === 0) return;
    this.#pendingEvidence.push(prepared);
    this.#pendingItems += prepared.ids.length;
    if (this.#pendingItems >= chunkSize) await this.appendPendingEvidence();
  }

  async #writeIdentityFacts(facts: Positioned<IdentityFact>[]) {
    const fresh: { identityId: string; fact: IdentityFact }[] = [];
    const listed: { id: string; at: string }[] = [];
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
        listed.push({ id: identityId, at: fact.observedAt });
        if (!(await observationUnchanged(this.#trx, this.#workspaceId, identityId, fact))) {
          fresh.push({ identityId, fact });
        }
      });
    }
    // A snapshot lists the account as present when it was taken, changed or not: an account a newer
    // complete report no longer lists was removed (identity governance confirms leavers by this).
    if (listed.length > 0) {
      await sql`
        update identities as i set last_listed_at = greatest(i.last_listed_at, v.at)
          from (select * from unnest(${listed.map((l) => l.id)}::uuid[], ${listed.map((l) => l.at)}::timestamptz[])
                  as t(id, at)) as v
         where i.workspace_id = ${this.#workspaceId} and i.id = v.id`.execute(this.#trx);
    }
    if (fresh.length === 0) return;
    // Each new snapshot is preserved in the ledger as it was received.
    const evidenceIds = await this.#toLedger(
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
          evidenceIds[index]!,
        )
      ) {
        this.counts.identities++;
        await setIdentityStatus(this.#trx, this.#workspaceId, identityId, fact.status, fact.observedAt);
      }
    }
  }

  async #writeEvents(events: PositionedEvent[]) {
    if (events.length === 0) return;
    const rows: EventRow[] = [];
    const evidence: EvidenceInput[] = [];
    // Within one chunk a replayed key would make the multi-row insert ambiguous: keep the first.
    const seen = new Set<string>();
    for (const { position, value: event, evidence: content } of events) {
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
        const row: EventRow = {
          event,
          actorIdentityId,
          targetIdentityId,
          evidenceId: null,
          rawInLedger: false,
        };
        rows.push(row);
        evidence.push(rawEventEvidence(row, content));
      });
    }
    // The event rows decide what is new: the insert skips replays by their unique key (a plan the
    // database cannot get wrong, however stale its statistics are inside a large import), and only
    // the evidence of the rows it inserted is queued for the ledger.
    const prepared = await prepareAppend(this.#trx, this.#workspaceId, evidence);
    for (const [index, row] of rows.entries()) row.evidenceId = prepared.ids[index]!;
    const inserted = await insertEvents(this.#trx, this.#workspaceId, this.#batchId, rows);
    const stored = new Set(inserted.map((r) => `${r.source}\u0000${r.source_key}`));
    const keep = rows.map((r) => stored.has(`${r.event.source}\u0000${r.event.sourceKey}`));
    await this.#queueForLedger({
      workspaceId: prepared.workspaceId,
      ids: prepared.ids.filter((_, i) => keep[i]),
      items: prepared.items.filter((_, i) => keep[i]),
    });
    this.counts.eventsStored += inserted.length;
    this.counts.duplicates += rows.length - inserted.length;
    for (const r of inserted) this.storedEventIds.push(r.id);
    for (const [index, row] of rows.entries()) {
      const { event } = row;
      if (!keep[index]) continue;
      this.#noteStored(row);
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

  /**
   * Entitlement changes in one multi-row insert (replays skipped by source key), with the events
   * they cite looked up together. If the database refuses the batch, the chunk is written record
   * by record so that the error names the record.
   */
  async #writeEntitlements(facts: Positioned<EntitlementFact>[]) {
    if (facts.length === 0) return;
    const rows: { fact: EntitlementFact; identityId: string; sourceKey: string }[] = [];
    for (const { position, value: fact } of facts) {
      await atPosition(position, async () => {
        const identityId = await this.#resolveRef(fact.identity, { system: fact.system, time: fact.at });
        rows.push({ fact, identityId, sourceKey: entitlementSourceKey(fact) });
      });
    }
    const eventIds = new Map<string, number>();
    const cited = new Map<string, Set<string>>();
    for (const { fact } of rows) {
      if (!fact.eventSourceKey) continue;
      const keys = cited.get(fact.source) ?? new Set<string>();
      keys.add(fact.eventSourceKey);
      cited.set(fact.source, keys);
    }
    for (const [source, keys] of cited) {
      for (const row of await findEventIds(this.#trx, this.#workspaceId, source, [...keys])) {
        eventIds.set(`${source}\u0000${row.source_key}`, row.id);
      }
    }
    const values = rows.map(({ fact, identityId, sourceKey }) => ({
      workspace_id: this.#workspaceId,
      identity_id: identityId,
      system: fact.system,
      name: fact.name,
      kind: fact.kind,
      privileged: fact.privileged,
      granted: fact.granted,
      at: fact.at,
      event_id: fact.eventSourceKey
        ? (eventIds.get(`${fact.source}\u0000${fact.eventSourceKey}`) ?? null)
        : null,
      source: fact.source,
      source_key: sourceKey,
    }));
    const inserted = await this.#attempt(() =>
      this.#trx
        .insertInto('entitlement_changes')
        .values(values)
        .onConflict((oc) => oc.columns(['workspace_id', 'source', 'source_key']).doNothing())
        .returning('id')
        .execute(),
    );
    if (inserted) {
      this.counts.entitlementChanges += inserted.length;
      return;
    }
    for (const { position, value } of facts) {
      await atPosition(position, () => this.#writeEntitlement(value));
    }
  }

  #noteStored(row: EventRow): void {
    const { stored } = this;
    stored.classUids.add(row.event.classUid);
    if (row.actorIdentityId === null && row.targetIdentityId === null)
      stored.everyEventNamesAnAccount = false;
    for (const id of [row.actorIdentityId, row.targetIdentityId]) {
      if (id !== null && stored.accounts.size < maxTrackedAccounts) stored.accounts.add(id);
    }
  }

  /**
   * Runs `fn` under a savepoint: undefined (and the transaction as it was before) if the database
   * refused it, so the caller can redo the work record by record.
   */
  async #attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const name = `ingest_${++this.#savepoints}`;
    await sql`savepoint ${sql.raw(name)}`.execute(this.#trx);
    try {
      const result = await fn();
      await sql`release savepoint ${sql.raw(name)}`.execute(this.#trx);
      return result;
    } catch {
      await sql`rollback to savepoint ${sql.raw(name)}`.execute(this.#trx);
      return undefined;
    }
  }

  /**
   * Resolves, in a few statements, every account the chunk names that the cache does not know:
   * the same lookups as `#resolve` (system id, else user name, else email; the earliest match),
   * the same inserts and the same enrichment of known accounts, in record order — so the result is
   * what record-by-record resolution would give. Accounts named without any id are left to the
   * record-by-record path, which rejects them with their position.
   */
  async #prefetchAccounts(
    identities: Positioned<IdentityFact>[],
    events: Positioned<NormalizedEvent>[],
    entitlements: Positioned<EntitlementFact>[],
  ) {
    const wanted: Wanted[] = [];
    const queued = new Set<string>();
    const want = (ref: IdentityRef, system: string, seenAt: string) => {
      const key = identityKeyOf(ref, system);
      const cacheKey = cacheKeyOf(key);
      if (this.#identityCache.has(cacheKey) || queued.has(cacheKey)) return;
      if (!key.externalId && !key.userName && !key.email) return;
      queued.add(cacheKey);
      wanted.push({ ref, key, cacheKey, seenAt });
    };
    for (const { value: fact } of identities) {
      want(
        {
          type: fact.type,
          system: fact.system,
          externalId: fact.externalId,
          userName: fact.userName,
          email: fact.email,
          displayName: fact.displayName,
        },
        fact.system,
        fact.createdAt && fact.createdAt < fact.observedAt ? fact.createdAt : fact.observedAt,
      );
    }
    const seenEvents = new Set<string>();
    for (const { value: event } of events) {
      const key = `${event.source}\u0000${event.sourceKey}`;
      if (seenEvents.has(key)) continue;
      seenEvents.add(key);
      if (event.system === 'hr') continue;
      if (event.actor) want(event.actor, event.actor.system ?? event.system, event.time);
      if (event.target) want(event.target, event.target.system ?? event.system, event.time);
    }
    for (const { value: fact } of entitlements) {
      want(fact.identity, fact.identity.system ?? fact.system, fact.at);
    }
    if (wanted.length < 2) return;
    const resolved = await this.#attempt(() => this.#resolveMany(wanted));
    if (!resolved) return;
    for (const [cacheKey, id] of resolved) this.#identityCache.set(cacheKey, id);
  }

  async #resolveMany(wanted: Wanted[]): Promise<Map<string, string>> {
    const bySystem = new Map<string, Wanted[]>();
    for (const w of wanted) {
      const list = bySystem.get(w.key.system) ?? [];
      list.push(w);
      bySystem.set(w.key.system, list);
    }
    const rowOf = new Map<string, AccountRow>();
    const fresh: AccountRow[] = [];
    const touched = new Set<AccountRow>();
    for (const [system, list] of bySystem) {
      const ids = new Set<string>();
      const names = new Set<string>();
      const emails = new Set<string>();
      for (const { key } of list) {
        if (key.externalId) ids.add(key.externalId);
        if (key.userName) {
          ids.add(key.userName);
          names.add(key.userName);
        }
        if (key.email) emails.add(key.email);
      }
      const { rows } = await sql<{
        id: string;
        external_id: string;
        user_name: string | null;
        email: string | null;
        display_name: string | null;
        first_seen_at: Date;
        last_seen_at: Date;
        created_at: Date;
      }>`
        select id, external_id, user_name, email, display_name, first_seen_at, last_seen_at, created_at
        from identities
        where workspace_id = ${this.#workspaceId} and system = ${system}
          and (external_id = any(${[...ids]}::text[]) or user_name = any(${[...names]}::text[])
            or email = any(${[...emails]}::text[]))
        order by created_at, id`.execute(this.#trx);
      const index = new AccountIndex();
      for (const row of rows) {
        index.add({
          id: row.id,
          system,
          externalId: row.external_id,
          userName: row.user_name,
          email: row.email,
          displayName: row.display_name,
          firstSeen: row.first_seen_at.toISOString(),
          lastSeen: row.last_seen_at.toISOString(),
          principalType: 'user',
          isNew: false,
        });
      }
      for (const { ref, key, cacheKey, seenAt } of list) {
        const seen = new Date(seenAt).toISOString();
        let row = index.find(key);
        if (row) {
          // What enrichIdentity does: fill what is unknown, widen the seen window.
          index.enrich(row, {
            userName: ref.userName,
            email: ref.email?.toLowerCase(),
            displayName: ref.displayName,
          });
          if (seen < row.firstSeen) row.firstSeen = seen;
          if (seen > row.lastSeen) row.lastSeen = seen;
          if (!row.isNew) touched.add(row);
        } else {
          row = {
            id: randomUUID(),
            system,
            externalId: (key.externalId ?? key.userName ?? key.email)!,
            userName: ref.userName ?? null,
            email: ref.email?.toLowerCase() ?? null,
            displayName: ref.displayName ?? null,
            firstSeen: seen,
            lastSeen: seen,
            principalType: ref.type,
            isNew: true,
          };
          index.add(row);
          fresh.push(row);
        }
        rowOf.set(cacheKey, row);
      }
    }
    // New accounts in multi-row inserts; one that a concurrent import created meanwhile keeps its id.
    for (let from = 0; from < fresh.length; from += chunkSize) {
      const part = fresh.slice(from, from + chunkSize);
      const inserted = await this.#trx
        .insertInto('identities')
        .values(
          part.map((row) => ({
            id: row.id,
            workspace_id: this.#workspaceId,
            system: row.system,
            external_id: row.externalId,
            user_name: row.userName,
            email: row.email,
            display_name: row.displayName,
            principal_type: row.principalType,
            first_seen_at: row.firstSeen,
            last_seen_at: row.lastSeen,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'system', 'external_id']).doUpdateSet({ updated_at: new Date() }),
        )
        .returning(['id', 'system', 'external_id'])
        .execute();
      const byKey = new Map(inserted.map((r) => [`${r.system}\u0000${r.external_id}`, r.id]));
      for (const row of part) {
        const id = byKey.get(`${row.system}\u0000${row.externalId}`);
        if (id !== undefined && id !== row.id) row.id = id;
      }
    }
    const result = new Map<string, string>();
    for (const [cacheKey, row] of rowOf) result.set(cacheKey, row.id);
    // What the chunk tells about accounts already known, in one statement.
    const known = [...touched];
    if (known.length > 0) {
      await sql`
        update identities as i set
          user_name = coalesce(i.user_name, v.user_name),
          email = coalesce(i.email, v.email),
          display_name = coalesce(i.display_name, v.display_name),
          first_seen_at = least(i.first_seen_at, v.first_seen_at),
          last_seen_at = greatest(i.last_seen_at, v.last_seen_at),
          updated_at = now()
        from (
          select * from unnest(
            ${known.map((r) => r.id)}::uuid[], ${known.map((r) => r.userName)}::text[],
            ${known.map((r) => r.email)}::text[], ${known.map((r) => r.displayName)}::text[],
            ${known.map((r) => r.firstSeen)}::timestamptz[], ${known.map((r) => r.lastSeen)}::timestamptz[]
          ) as t(id, user_name, email, display_name, first_seen_at, last_seen_at)
        ) as v
        where i.workspace_id = ${this.#workspaceId} and i.id = v.id`.execute(this.#trx);
    }
    return result;
  }

  async #writeEntitlement(fact: EntitlementFact) {
    const identityId = await this.#resolveRef(fact.identity, { system: fact.system, time: fact.at });
    let eventId: number | null = null;
    if (fact.eventSourceKey) {
      const [row] = await findEventIds(this.#trx, this.#workspaceId, fact.source, [fact.eventSourceKey]);
      eventId = row?.id ?? null;
    }
    const sourceKey = entitlementSourceKey(fact);
    if (await insertEntitlementChange(this.#trx, this.#workspaceId, identityId, fact, sourceKey, eventId)) {
      this.counts.entitlementChanges++;
    }
  }

  #resolveRef(ref: IdentityRef, context: { system: string; time: string }) {
    return this.#resolve(ref, ref.system ?? context.system, context.time);
  }

  async #resolve(ref: IdentityRef, system: string, seenAt: string): Promise<string> {
    const key = identityKeyOf(ref, system);
    const cacheKey = cacheKeyOf(key);
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

function identityKeyOf(ref: IdentityRef, system: string): IdentityKey {
  return { system, externalId: ref.externalId, userName: ref.userName, email: ref.email?.toLowerCase() };
}

function cacheKeyOf(key: IdentityKey): string {
  return `${key.system}\u0000${key.externalId ?? ''}\u0000${key.userName ?? ''}\u0000${key.email ?? ''}`;
}

function entitlementSourceKey(fact: EntitlementFact): string {
  return `${fact.eventSourceKey ?? `${fact.at}|${fact.system}`}|${fact.identity.externalId ?? fact.identity.userName ?? fact.identity.email ?? ''}|${fact.name}|${fact.granted ? '+' : '-'}`;
}

interface Wanted {
  ref: IdentityRef;
  key: IdentityKey;
  cacheKey: string;
  seenAt: string;
}

interface AccountRow {
  id: string;
  system: string;
  externalId: string;
  userName: string | null;
  email: string | null;
  displayName: string | null;
  firstSeen: string;
  lastSeen: string;
  principalType: string;
  isNew: boolean;
}

/**
 * One system's accounts as `findIdentity` looks them up: by system id; by user name (matching a
 * user name or a system id); by email — the earliest account first.
 */
class AccountIndex {
  readonly #byExternalId = new Map<string, AccountRow>();
  readonly #byName = new Map<string, AccountRow[]>();
  readonly #byEmail = new Map<string, AccountRow[]>();
  /** Creation order: rows read (oldest first), then rows created here. */
  readonly #order = new Map<AccountRow, number>();

  add(row: AccountRow) {
    this.#order.set(row, this.#order.size);
    this.#byExternalId.set(row.externalId, row);
    this.#push(this.#byName, row.externalId, row);
    if (row.userName !== null && row.userName !== row.externalId) this.#push(this.#byName, row.userName, row);
    if (row.email !== null) this.#push(this.#byEmail, row.email, row);
  }

  /** Fills what is unknown about `row`; a name or email learnt this way finds it from now on. */
  enrich(
    row: AccountRow,
    values: { userName?: string | undefined; email?: string | undefined; displayName?: string | undefined },
  ) {
    if (row.userName === null && values.userName !== undefined) {
      row.userName = values.userName;
      if (row.userName !== row.externalId) this.#push(this.#byName, row.userName, row);
    }
    if (row.email === null && values.email !== undefined) {
      row.email = values.email;
      this.#push(this.#byEmail, row.email, row);
    }
    if (row.displayName === null && values.displayName !== undefined) row.displayName = values.displayName;
  }

  #push(map: Map<string, AccountRow[]>, key: string, row: AccountRow) {
    const list = map.get(key) ?? [];
    const at = this.#order.get(row) ?? Number.MAX_SAFE_INTEGER;
    let i = list.length;
    while (i > 0 && (this.#order.get(list[i - 1]!) ?? 0) > at) i--;
    if (list[i - 1] !== row) list.splice(i, 0, row);
    map.set(key, list);
  }

  find(key: IdentityKey): AccountRow | undefined {
    if (key.externalId) {
      const row = this.#byExternalId.get(key.externalId);
      if (row) return row;
    }
    if (key.userName) {
      const rows = this.#byName.get(key.userName);
      if (rows?.[0]) return rows[0];
    }
    if (key.email) {
      const rows = this.#byEmail.get(key.email);
      if (rows?.[0]) return rows[0];
    }
    return undefined;
  }
}

/** Gives database-level failures the position of the record that caused them. */
/** `file line N`, as much of it as is known ('' when nothing is). */
function describePosition(position: RecordPosition): string {
  return [position.file, position.line !== undefined ? `line ${position.line}` : undefined]
    .filter(Boolean)
    .join(' ');
}

async function atPosition<T>(position: RecordPosition, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const where = describePosition(position);
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
