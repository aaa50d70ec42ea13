/**
 * The facts checks evaluate, as they stood at one instant (`asOf`): people as HR stated them,
 * accounts with their latest snapshot and status, events, and entitlements held. Loaded lazily
 * and once per evaluation run, so thirty checks share the same reads.
 */
import type { Trx } from '../../db/database.ts';
import type { NormalizedEvent } from '../events/event.model.ts';
import {
  type EventFactRow,
  type EventFilter,
  type IdentityScope,
  selectEntitlementChanges,
  selectEventsOfFilters,
  selectIdentities,
  selectLastLogins,
  selectObservations,
  selectPeople,
  selectVendorRecords,
} from './facts.repository.ts';

export interface PersonView {
  id: string;
  employeeId: string;
  name: string;
  email: string;
  title: string | null;
  department: string | null;
  managerEmail: string | null;
  startDate: Date | null;
  endDate: Date | null;
  /** Employment status at `asOf` (a future end date is still employed). */
  status: 'active' | 'terminated' | 'on_leave';
  /** When employment ended, if it had by `asOf`. */
  terminatedAt: Date | null;
}

export interface AccessKeyView {
  id?: string;
  active: boolean;
  lastRotatedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface IdentityView {
  id: string;
  system: string;
  externalId: string;
  userName: string | null;
  email: string | null;
  displayName: string | null;
  principalType: string;
  person: PersonView | null;
  nonHuman: boolean;
  owner: string | null;
  purpose: string | null;
  /** Account status at `asOf`, from the latest lifecycle event or snapshot by then. */
  status: 'active' | 'suspended' | 'deprovisioned';
  statusSince: Date | null;
  firstSeenAt: Date;
  /** From the latest snapshot (credential report, directory pull), when there is one. */
  snapshot: {
    source: string;
    observedAt: Date;
    mfaEnabled: boolean | null;
    passwordEnabled: boolean | null;
    passwordLastUsedAt: Date | null;
    createdAt: Date | null;
    isHumanHint: boolean | null;
    accessKeys: AccessKeyView[];
  } | null;
  /** Latest successful interactive sign-in known by `asOf` (events or snapshot). */
  lastLoginAt: Date | null;
}

export interface EventView {
  id: number;
  source: string;
  sourceKey: string;
  system: string;
  time: Date;
  classUid: number;
  activityId: number;
  action: string;
  outcome: string;
  actorIdentityId: string | null;
  targetIdentityId: string | null;
  repository: string | null;
  data: Omit<NormalizedEvent, 'raw'>;
}

/** An event with the vendor's record as received (see `Facts.vendorRecords`). */
export interface VendorRecordView {
  id: number;
  system: string;
  time: Date;
  action: string;
  outcome: string;
  actorIdentityId: string | null;
  repository: string | null;
  data: Omit<NormalizedEvent, 'raw'>;
  raw: Record<string, unknown>;
}

/** One grant or revocation of an entitlement. */
export interface EntitlementChangeView extends EntitlementView {
  granted: boolean;
}

export interface EntitlementView {
  identityId: string;
  system: string;
  name: string;
  kind: string;
  privileged: boolean;
  grantedAt: Date;
  eventId: number | null;
}

const day = 24 * 3600 * 1000;

function date(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(d.getTime()) ? null : d;
}

function later(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

function eventView(r: EventFactRow): EventView {
  return {
    id: r.id,
    source: r.source,
    sourceKey: r.source_key,
    system: r.system,
    time: r.time,
    classUid: r.class_uid,
    activityId: r.activity_id,
    action: r.action,
    outcome: r.outcome,
    actorIdentityId: r.actor_identity_id,
    targetIdentityId: r.target_identity_id,
    repository: r.repository,
    data: r.data as unknown as EventView['data'],
  };
}

export class Facts {
  readonly asOf: Date;
  readonly workspaceId: string;
  /**
   * When set, these facts describe only these accounts: their events (as actor or target), their
   * snapshots, sign-ins and entitlements. People and registers stay whole. Only checks that judge
   * each account by its own facts run over scoped facts (`scope: 'identity'` on the check).
   */
  readonly identityScope: IdentityScope;
  readonly #trx: Trx;
  #people?: Promise<PersonView[]>;
  #identities?: Promise<IdentityView[]>;
  #held?: Promise<EntitlementView[]>;
  #grants?: Promise<EntitlementView[]>;
  #changes?: Promise<{ granted: boolean; view: EntitlementView }[]>;
  readonly #events = new Map<string, Promise<EventView[]>>();
  #pendingEvents: {
    filter: EventFilter;
    resolve: (events: EventView[]) => void;
    reject: (error: unknown) => void;
  }[] = [];
  readonly #registers = new Map<string, Promise<unknown>>();
  readonly #vendor = new Map<string, Promise<VendorRecordView[]>>();

  /** The unscoped facts of the same run, whose people and registers scoping does not narrow. */
  readonly #whole: Facts | undefined;

  constructor(trx: Trx, workspaceId: string, asOf: Date, identityScope?: IdentityScope, whole?: Facts) {
    this.#trx = trx;
    this.workspaceId = workspaceId;
    this.asOf = asOf;
    this.identityScope = identityScope;
    this.#whole = whole;
  }

  /**
   * A programme register's rows (vendors, risks, policies…), read once per run by the register's
   * own repository within this run's transaction and as of this run's instant.
   */
  register<T>(name: string, load: (trx: Trx, workspaceId: string, asOf: Date) => Promise<T>): Promise<T> {
    if (this.#whole) return this.#whole.register(name, load);
    let cached = this.#registers.get(name) as Promise<T> | undefined;
    if (!cached) {
      cached = load(this.#trx, this.workspaceId, this.asOf);
      this.#registers.set(name, cached);
    }
    return cached;
  }

  daysAgo(days: number): Date {
    return new Date(this.asOf.getTime() - days * day);
  }

  people(): Promise<PersonView[]> {
    if (this.#whole) return this.#whole.people();
    this.#people ??= (async () => {
      const rows = await selectPeople(this.#trx, this.workspaceId);
      return rows.map((row) => {
        const endDate = row.end_date ? new Date(row.end_date) : null;
        let status: PersonView['status'] = row.status;
        let terminatedAt: Date | null = null;
        if (endDate) {
          // HR's end date is the last day worked: access must end by the end of that day.
          const end = new Date(endDate.getTime() + day);
          if (end <= this.asOf) {
            status = 'terminated';
            terminatedAt = end;
          } else if (row.status === 'terminated') {
            status = 'active';
          }
        } else if (row.status === 'terminated') {
          terminatedAt = row.observed_at <= this.asOf ? row.observed_at : null;
          status = terminatedAt ? 'terminated' : 'active';
        }
        return {
          id: row.id,
          employeeId: row.employee_id,
          name: row.name,
          email: row.email,
          title: row.title,
          department: row.department,
          managerEmail: row.manager_email,
          startDate: row.start_date ? new Date(row.start_date) : null,
          endDate,
          status,
          terminatedAt,
        };
      });
    })();
    return this.#people;
  }

  /**
   * Events of some classes and since some time, up to `asOf` (and of the scoped accounts). Reads
   * asked for while the checks of a run are at the same point go to the database together, as
   * one statement (see selectEventsOfFilters): a change's evaluation is a few dozen round trips,
   * and these were a third of them.
   */
  events(filter: EventFilter = {}): Promise<EventView[]> {
    const key = JSON.stringify(filter);
    let cached = this.#events.get(key);
    if (!cached) {
      cached = new Promise<EventView[]>((resolve, reject) => {
        if (this.#pendingEvents.length === 0) setImmediate(() => void this.#readPendingEvents());
        this.#pendingEvents.push({ filter, resolve, reject });
      });
      this.#events.set(key, cached);
    }
    return cached;
  }

  async #readPendingEvents(): Promise<void> {
    const pending = this.#pendingEvents;
    this.#pendingEvents = [];
    try {
      const lists = await selectEventsOfFilters(
        this.#trx,
        this.workspaceId,
        { until: this.asOf, identityIds: this.identityScope },
        pending.map((p) => p.filter),
      );
      // An event several reads want is one view, shared.
      const views = new Map<number, EventView>();
      for (const [index, rows] of lists.entries()) {
        pending[index]!.resolve(
          rows.map((r) => {
            let view = views.get(r.id);
            if (!view) {
              view = eventView(r);
              views.set(r.id, view);
            }
            return view;
          }),
        );
      }
    } catch (error) {
      for (const p of pending) p.reject(error);
    }
  }

  identities(): Promise<IdentityView[]> {
    this.#identities ??= (async () => {
      const [rows, observations, logins, people, lifecycle] = await Promise.all([
        selectIdentities(this.#trx, this.workspaceId, this.asOf, this.identityScope),
        selectObservations(this.#trx, this.workspaceId, this.asOf, this.identityScope),
        selectLastLogins(this.#trx, this.workspaceId, this.asOf, this.identityScope),
        this.people(),
        this.events({ classUids: [3001] }),
      ]);
      const personById = new Map(people.map((p) => [p.id, p]));
      const loginById = new Map(logins.map((l) => [l.identity_id, l.last_login]));
      const snapshotById = new Map<string, (typeof observations)[number]>();
      for (const o of observations) {
        const current = snapshotById.get(o.identity_id);
        if (!current || current.observed_at < o.observed_at) snapshotById.set(o.identity_id, o);
      }
      const statusEvents = new Map<string, { status: string; at: Date }>();
      for (const e of lifecycle) {
        const status = e.data.accountStatus;
        if (!status || !e.targetIdentityId || e.outcome === 'failure') continue;
        const current = statusEvents.get(e.targetIdentityId);
        if (!current || current.at <= e.time) statusEvents.set(e.targetIdentityId, { status, at: e.time });
      }
      return rows.map((row) => {
        const o = snapshotById.get(row.id);
        const data = (o?.data ?? {}) as Record<string, unknown>;
        const keys = Array.isArray(data.accessKeys) ? (data.accessKeys as Record<string, unknown>[]) : [];
        const snapshot = o
          ? {
              source: o.source,
              observedAt: o.observed_at,
              mfaEnabled: o.mfa_enabled,
              passwordEnabled: o.password_enabled,
              passwordLastUsedAt: o.password_last_used_at,
              createdAt: date(data.createdAt),
              isHumanHint: typeof data.isHumanHint === 'boolean' ? data.isHumanHint : null,
              accessKeys: keys.map((k) => ({
                ...(typeof k.id === 'string' ? { id: k.id } : {}),
                active: k.active === true,
                lastRotatedAt: date(k.lastRotatedAt),
                lastUsedAt: date(k.lastUsedAt),
              })),
            }
          : null;
        // The account's status at asOf: the latest of lifecycle events and the snapshot.
        let status = 'active' as IdentityView['status'];
        let statusSince: Date | null = null;
        const event = statusEvents.get(row.id);
        if (o && (!event || event.at <= o.observed_at)) {
          status = o.status as IdentityView['status'];
          statusSince = o.observed_at;
        }
        if (event && (!o || event.at > o.observed_at)) {
          status = event.status as IdentityView['status'];
          statusSince = event.at;
        }
        const snapshotLogin = later(o?.last_login_at ?? null, o?.password_last_used_at ?? null);
        return {
          id: row.id,
          system: row.system,
          externalId: row.external_id,
          userName: row.user_name,
          email: row.email,
          displayName: row.display_name,
          principalType: row.principal_type,
          person: row.person_id ? (personById.get(row.person_id) ?? null) : null,
          nonHuman: row.non_human,
          owner: row.owner,
          purpose: row.purpose,
          status,
          statusSince,
          firstSeenAt: row.first_seen_at,
          snapshot,
          lastLoginAt: later(
            loginById.get(row.id) ?? null,
            snapshotLogin && snapshotLogin <= this.asOf ? snapshotLogin : null,
          ),
        };
      });
    })();
    return this.#identities;
  }

  async identityById(): Promise<Map<string, IdentityView>> {
    return new Map((await this.identities()).map((i) => [i.id, i]));
  }

  /** Every grant of an entitlement up to asOf (revocations excluded). */
  grants(): Promise<EntitlementView[]> {
    this.#grants ??= this.#loadChanges().then((changes) =>
      changes.filter((c) => c.granted).map((c) => c.view),
    );
    return this.#grants;
  }

  /** The entitlements held at asOf: per account and name, the latest change was a grant. */
  held(): Promise<EntitlementView[]> {
    this.#held ??= this.#loadChanges().then((changes) => {
      const latest = new Map<string, { granted: boolean; view: EntitlementView }>();
      for (const c of changes) latest.set(`${c.view.identityId}\u0000${c.view.name}`, c);
      return [...latest.values()].filter((c) => c.granted).map((c) => c.view);
    });
    return this.#held;
  }

  /** Every grant and revocation up to asOf, oldest first. */
  async entitlementChanges(): Promise<EntitlementChangeView[]> {
    return (await this.#loadChanges()).map((c) => ({ ...c.view, granted: c.granted }));
  }

  /** Events of these vendor actions with their raw records, up to asOf. */
  async vendorRecords(actions: string[]): Promise<VendorRecordView[]> {
    const key = `vendor:${JSON.stringify([...actions].sort())}`;
    let cached = this.#vendor.get(key);
    if (!cached) {
      cached = selectVendorRecords(this.#trx, this.workspaceId, actions, this.asOf).then((rows) =>
        rows.map((r) => ({
          id: r.id,
          system: r.system,
          time: r.time,
          action: r.action,
          outcome: r.outcome,
          actorIdentityId: r.actor_identity_id,
          repository: r.repository,
          data: r.data as unknown as VendorRecordView['data'],
          raw: (r.raw && typeof r.raw === 'object' ? r.raw : {}) as Record<string, unknown>,
        })),
      );
      this.#vendor.set(key, cached);
    }
    return cached;
  }

  #loadChanges() {
    this.#changes ??= this.#selectChanges();
    return this.#changes;
  }

  async #selectChanges() {
    const rows = await selectEntitlementChanges(this.#trx, this.workspaceId, this.asOf, this.identityScope);
    return rows.map((r) => ({
      granted: r.granted,
      view: {
        identityId: r.identity_id,
        system: r.system,
        name: r.name,
        kind: r.kind,
        privileged: r.privileged,
        grantedAt: r.at,
        eventId: r.event_id,
      },
    }));
  }
}
