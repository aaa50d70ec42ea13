/**
 * Single sign-on with OpenID Connect, configured per workspace (issuer, client id, client secret
 * sealed with the secrets helper). Authorization code flow with PKCE, state and nonce; the state
 * travels in a sealed, short-lived cookie bound to the browser that started the sign-in.
 *
 * A session begun through workspace W's identity provider reaches W (and, for an MSP, the
 * clients its membership lists) and nothing else: W's administrators control that provider, so
 * it must not vouch for anyone elsewhere — whatever email it asserts.
 */
import * as oidc from 'openid-client';
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Role } from '../access/permissions.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { SecretBox } from '../secrets/secrets.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  deleteOidcConnection,
  findIdentity,
  findMembership,
  findMembershipsReaching,
  findOidcConnection,
  findUserByEmail,
  findUserById,
  insertIdentity,
  upsertMembership,
  upsertOidcConnection,
} from './accounts.repository.ts';
import { type IssuedSession, issueSession, type SessionRequestInfo } from './sessions.service.ts';
import { insertUserAudited, type UserRow } from './users.service.ts';

export const oidcStateCookie = 'assay_oidc';
const stateLifetimeMs = 10 * 60 * 1000;
const secretContext = (workspaceId: string) => `oidc:${workspaceId}:client_secret`;
const stateContext = 'oidc:sign-in-state';

export const jitRoles: readonly Role[] = ['control_owner', 'reviewer', 'employee'];

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

/** Issuers must use https; plain http is accepted only on this machine (development, tests). */
export function parseIssuer(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AssayError('validation_failed', 'issuer: not a URL', { field: 'issuer' });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw new AssayError('validation_failed', 'issuer: must be an https:// URL', { field: 'issuer' });
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new AssayError('validation_failed', 'issuer: no credentials, query or fragment', {
      field: 'issuer',
    });
  }
  return url;
}

export interface SsoSettingsInput {
  issuer: string;
  clientId: string;
  /** Required the first time; omitted later to keep the stored one. */
  clientSecret?: string | undefined;
  jitRole?: Role | null | undefined;
}

export async function setSsoConnection(
  database: Database,
  secrets: SecretBox,
  actor: Actor,
  workspaceRef: string,
  input: SsoSettingsInput,
) {
  const issuer = parseIssuer(input.issuer).href.replace(/\/$/, '');
  const jitRole = input.jitRole ?? null;
  if (jitRole !== null && !jitRoles.includes(jitRole)) {
    throw new AssayError('validation_failed', `jitRole: must be one of ${jitRoles.join(', ')}`, {
      field: 'jitRole',
    });
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const existing = await findOidcConnection(trx, workspace.id);
    let sealed: string;
    if (input.clientSecret !== undefined)
      sealed = secrets.encrypt(input.clientSecret, secretContext(workspace.id));
    else if (existing) sealed = existing.client_secret;
    else {
      throw new AssayError(
        'validation_failed',
        'clientSecret: required when single sign-on is first set up',
        {
          field: 'clientSecret',
        },
      );
    }
    const row = await upsertOidcConnection(trx, {
      workspaceId: workspace.id,
      issuer,
      clientId: input.clientId,
      clientSecret: sealed,
      jitRole,
    });
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: existing ? 'sso.updated' : 'sso.configured',
      targetType: 'workspace',
      targetId: workspace.id,
      details: {
        issuer,
        clientId: input.clientId,
        jitRole,
        clientSecretChanged: input.clientSecret !== undefined,
      },
    });
    discoveryCache.delete(workspace.id);
    return row;
  });
}

export async function getSsoConnection(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const row = await database.inWorkspace(workspace.id, (trx) => findOidcConnection(trx, workspace.id));
  if (!row)
    throw new AssayError('sso_not_configured', `single sign-on is not set up for "${workspace.slug}"`);
  return row;
}

export async function removeSsoConnection(database: Database, actor: Actor, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  await database.inWorkspace(workspace.id, async (trx) => {
    const removed = await deleteOidcConnection(trx, workspace.id);
    if (!removed)
      throw new AssayError('sso_not_configured', `single sign-on is not set up for "${workspace.slug}"`);
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'sso.removed',
      targetType: 'workspace',
      targetId: workspace.id,
      details: {},
    });
  });
  discoveryCache.delete(workspace.id);
}

export function presentSsoConnection(row: NonNullable<Awaited<ReturnType<typeof findOidcConnection>>>) {
  return {
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecretSet: true,
    jitRole: row.jit_role,
    updatedAt: row.updated_at.toISOString(),
  };
}

// ── the sign-in flow ────────────────────────────────────────────────────────

const discoveryCache = new Map<string, { key: string; at: number; config: Promise<oidc.Configuration> }>();

async function clientConfiguration(
  secrets: SecretBox,
  connection: NonNullable<Awaited<ReturnType<typeof findOidcConnection>>>,
): Promise<oidc.Configuration> {
  const key = `${connection.issuer}|${connection.client_id}|${connection.updated_at.getTime()}`;
  const cached = discoveryCache.get(connection.workspace_id);
  if (cached && cached.key === key && Date.now() - cached.at < 10 * 60 * 1000) return cached.config;
  const issuer = new URL(connection.issuer);
  const clientSecret = secrets.decrypt(connection.client_secret, secretContext(connection.workspace_id));
  const config = oidc.discovery(
    issuer,
    connection.client_id,
    undefined,
    oidc.ClientSecretBasic(clientSecret),
    {
      timeout: 10,
      execute: isLoopback(issuer) ? [oidc.allowInsecureRequests] : [],
    },
  );
  discoveryCache.set(connection.workspace_id, { key, at: Date.now(), config });
  config.catch(() => discoveryCache.delete(connection.workspace_id));
  return config;
}

interface SignInState {
  workspaceId: string;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  expiresAt: number;
}

/** Starts a sign-in: the URL to send the browser to, and the sealed state for its cookie. */
export async function beginSsoSignIn(
  database: Database,
  secrets: SecretBox,
  workspaceRef: string,
  redirectUri: string,
) {
  const workspace = await getWorkspace(database, workspaceRef);
  const connection = await findOidcConnection(database.db, workspace.id);
  if (!connection)
    throw new AssayError('sso_not_configured', `single sign-on is not set up for "${workspace.slug}"`);
  const config = await clientConfiguration(secrets, connection).catch((error: Error) => {
    throw new AssayError(
      'sso_not_configured',
      `the identity provider of "${workspace.slug}" did not answer discovery: ${error.message}`,
    );
  });
  const state: SignInState = {
    workspaceId: workspace.id,
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    verifier: oidc.randomPKCECodeVerifier(),
    redirectUri,
    expiresAt: Date.now() + stateLifetimeMs,
  };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    response_type: 'code',
    state: state.state,
    nonce: state.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(state.verifier),
    code_challenge_method: 'S256',
  });
  return { url: url.href, cookie: secrets.encrypt(JSON.stringify(state), stateContext) };
}

const multiFactorMethods = new Set([
  'mfa',
  'otp',
  'hwk',
  'swk',
  'sc',
  'sms',
  'fpt',
  'face',
  'iris',
  'retina',
]);

/**
 * Finishes a sign-in at the callback: checks state, nonce and PKCE, redeems the code, and maps
 * the provider's person to an Assay user — by a link made earlier, else by verified email for an
 * existing member of the workspace, else (when the workspace allows it) by creating them.
 */
export async function completeSsoSignIn(
  database: Database,
  secrets: SecretBox,
  input: {
    cookie: string | undefined;
    callbackUrl: URL;
    previousSessionToken?: string | undefined;
  } & SessionRequestInfo,
): Promise<{ session: IssuedSession; user: UserRow; workspaceSlug: string }> {
  const fail = (
    reason: string,
    message: string,
    workspaceId: string | null = null,
    email?: string,
  ): Promise<never> =>
    recordAudit(database.db, {
      workspaceId,
      actor: { type: 'user', id: 'unknown', name: email ?? 'sso' },
      action: 'auth.login_failed',
      targetType: 'user',
      targetId: email ?? 'unknown',
      details: { method: 'oidc', reason, ip: input.ip, userAgent: input.userAgent.slice(0, 200) },
    }).then(() => {
      throw new AssayError('invalid_credentials', `single sign-on failed: ${message}`);
    });

  let state: SignInState;
  try {
    state = JSON.parse(secrets.decrypt(input.cookie ?? '', stateContext)) as SignInState;
  } catch {
    return fail('missing_state', 'this browser did not start the sign-in (or it took too long): start again');
  }
  if (state.expiresAt < Date.now()) return fail('expired_state', 'the sign-in took too long: start again');
  const connection = await findOidcConnection(database.db, state.workspaceId);
  if (!connection)
    return fail('not_configured', 'single sign-on is no longer set up for this workspace', state.workspaceId);
  let claims: oidc.IDToken;
  try {
    const config = await clientConfiguration(secrets, connection);
    const callback = new URL(state.redirectUri);
    callback.search = input.callbackUrl.search;
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: state.verifier,
      expectedState: state.state,
      expectedNonce: state.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims()!;
    // Providers that keep the ID token small (as the spec's scope-claims rule has it) give the
    // email at the userinfo endpoint; the subject must match the ID token's.
    if (typeof claims.email !== 'string') {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      claims = {
        ...claims,
        email: info.email,
        email_verified: info.email_verified,
        name: claims.name ?? info.name,
      };
    }
  } catch (error) {
    return fail(
      'provider_rejected',
      `the identity provider's answer was refused (${(error as Error).message})`,
      state.workspaceId,
    );
  }
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : undefined;
  const emailVerified = claims.email_verified === true;
  const workspaceId = state.workspaceId;
  const systemActor: Actor = { type: 'system', id: `sso:${connection.issuer}` };

  const user = await database.inSystem(async (trx) => {
    const identity = await findIdentity(trx, claims.iss, claims.sub);
    if (identity) return findUserById(trx, identity.user_id);
    if (!email || !emailVerified) return undefined;
    let person = await findUserByEmail(trx, email);
    if (person) {
      // Linking by email only for someone this workspace already counts as a member.
      if (!(await findMembership(trx, workspaceId, person.id))) return undefined;
    } else {
      if (connection.jit_role === null) return undefined;
      person = await insertUserAudited(trx, systemActor, {
        email,
        displayName: typeof claims.name === 'string' ? claims.name.slice(0, 200) : '',
        passwordHash: null,
        platformAdmin: false,
      });
      const membership = await upsertMembership(trx, {
        workspaceId,
        userId: person.id,
        role: connection.jit_role,
        clientWorkspaceIds: [],
        auditPeriodStart: null,
        auditPeriodEnd: null,
        expiresAt: null,
        createdBy: `${systemActor.type}:${systemActor.id}`,
      });
      await recordAudit(trx, {
        workspaceId,
        actor: systemActor,
        action: 'member.added',
        targetType: 'membership',
        targetId: membership.id,
        details: { email, role: connection.jit_role, via: 'sso_first_sign_in' },
      });
    }
    await insertIdentity(trx, person.id, claims.iss, claims.sub);
    return person;
  });
  // Linked earlier or not, the person must (still) be a member here: the session reaches nothing else.
  const member =
    user !== undefined && (await findMembershipsReaching(database.db, user.id, workspaceId, null)).length > 0;
  if (!user || user.disabled_at !== null || !member) {
    return fail(
      'no_account',
      `${email ?? 'this person'} has no access to this workspace`,
      workspaceId,
      email,
    );
  }
  const amr = Array.isArray(claims.amr) ? (claims.amr as unknown[]).filter((m) => typeof m === 'string') : [];
  const providerMfa = amr.some((m) => multiFactorMethods.has(m as string));
  // A person with their own second factor at Assay gives it here too unless the provider already asked for one.
  const stage = user.totp_enabled_at !== null && !providerMfa ? 'mfa' : 'full';
  const session = await issueSession(
    database,
    {
      userId: user.id,
      stage,
      mfa: providerMfa,
      ssoWorkspaceId: workspaceId,
      ip: input.ip,
      userAgent: input.userAgent,
    },
    input.previousSessionToken,
  );
  const workspace = await getWorkspace(database, workspaceId);
  await recordAudit(database.db, {
    workspaceId: null,
    actor: { type: 'user', id: user.id, name: user.email },
    action: stage === 'full' ? 'auth.login_succeeded' : 'auth.password_accepted',
    targetType: 'user',
    targetId: user.id,
    details: {
      method: 'oidc',
      issuer: connection.issuer,
      workspace: workspace.slug,
      mfa: providerMfa,
      ip: input.ip,
      userAgent: input.userAgent.slice(0, 200),
    },
  });
  return { session, user, workspaceSlug: workspace.slug };
}
