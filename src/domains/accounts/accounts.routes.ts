/** Signing in and out, the second factor, and single sign-on: `/api/v1/auth/…`. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AssayError } from '../../errors.ts';
import type { App, AppContext } from '../../http/app.ts';
import { appendCookie, readCookie } from '../../http/cookies.ts';
import { openSecretBox } from '../secrets/secrets.ts';
import { listWorkspaces } from '../workspaces/workspaces.repository.ts';
import { findUserById, listMembershipsOfUser } from './accounts.repository.ts';
import { callerActor, type UserCaller } from './caller.ts';
import { secretMatchesHash } from './credentials.ts';
import { beginSsoSignIn, completeSsoSignIn, oidcStateCookie } from './oidc.service.ts';
import { verifyPassword } from './passwords.ts';
import {
  csrfCookie,
  csrfHeader,
  findLiveSession,
  type IssuedSession,
  sessionCookie,
} from './sessions.service.ts';
import {
  beginTotpEnrolment,
  completeSecondFactor,
  confirmTotpEnrolment,
  regenerateRecoveryCodes,
  type SignInResult,
  signInWithPassword,
  signOut,
} from './sign-in.service.ts';
import { assertNotThrottled, recordSignInFailure } from './throttle.service.ts';
import { presentUser, setUserPassword } from './users.service.ts';

const errors = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
  429: Type.Ref('Error'),
};

const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  displayName: Type.String(),
  platformAdmin: Type.Boolean(),
  passwordSet: Type.Boolean(),
  mfaEnabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

const SignInSchema = Type.Object({
  status: Type.Union([
    Type.Literal('signed_in'),
    Type.Literal('mfa_required'),
    Type.Literal('mfa_enrollment_required'),
  ]),
  csrfToken: Type.String({ description: `send it back in the ${csrfHeader} header on every write` }),
  expiresAt: Type.String({ format: 'date-time' }),
  user: UserSchema,
});

function requestInfo(request: FastifyRequest) {
  return { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 300) };
}

function setSessionCookies(reply: FastifyReply, session: IssuedSession) {
  const maxAgeSeconds = (session.expiresAt.getTime() - Date.now()) / 1000;
  appendCookie(reply, sessionCookie, session.token, { maxAgeSeconds, httpOnly: true, sameSite: 'Strict' });
  // Readable by the web app, which sends it back in the header (the server compares it with the
  // hash stored with the session, so a cookie planted by another site does not help an attacker).
  appendCookie(reply, csrfCookie, session.csrfToken, { maxAgeSeconds, httpOnly: false, sameSite: 'Strict' });
}

function clearSessionCookies(reply: FastifyReply) {
  appendCookie(reply, sessionCookie, '', { maxAgeSeconds: 0, httpOnly: true, sameSite: 'Strict' });
  appendCookie(reply, csrfCookie, '', { maxAgeSeconds: 0, httpOnly: false, sameSite: 'Strict' });
}

function signInReply(reply: FastifyReply, result: SignInResult) {
  setSessionCookies(reply, result.session);
  return {
    status: result.status,
    csrfToken: result.session.csrfToken,
    expiresAt: result.session.expiresAt.toISOString(),
    user: presentUser(result.user),
  };
}

function person(request: FastifyRequest): UserCaller {
  const caller = request.caller;
  if (caller?.kind !== 'user') throw new AssayError('unauthenticated', 'sign in first');
  return caller;
}

/** The callback address registered at the identity provider: this server's own URL. */
function callbackUrl(request: FastifyRequest): string {
  return new URL('/api/v1/auth/oidc/callback', `${request.protocol}://${request.host}`).href;
}

export async function accountRoutes(app: App, context: AppContext) {
  const { database } = context;
  const secrets = context.secrets ?? openSecretBox(context.config);

  app.post(
    '/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password (then a TOTP code when status is mfa_required)',
        body: Type.Object(
          {
            email: Type.String({ minLength: 1, maxLength: 254 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: SignInSchema, ...errors },
      },
    },
    async (request, reply) => {
      const result = await signInWithPassword(database, {
        email: request.body.email,
        password: request.body.password,
        previousSessionToken: readCookie(request, sessionCookie),
        ...requestInfo(request),
      });
      return signInReply(reply, result);
    },
  );

  app.post(
    '/auth/login/totp',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Finish signing in with a TOTP code or a single-use recovery code',
        body: Type.Union([
          Type.Object(
            { code: Type.String({ minLength: 1, maxLength: 12 }) },
            { additionalProperties: false },
          ),
          Type.Object(
            { recoveryCode: Type.String({ minLength: 1, maxLength: 40 }) },
            { additionalProperties: false },
          ),
        ]),
        response: { 200: SignInSchema, ...errors },
      },
    },
    async (request, reply) => {
      const token = readCookie(request, sessionCookie);
      const pending = token ? await findLiveSession(database, token) : undefined;
      const sent = request.headers[csrfHeader];
      if (pending && (typeof sent !== 'string' || !secretMatchesHash(sent, pending.csrf_hash))) {
        throw new AssayError(
          'csrf_failed',
          `send the CSRF token from the first step in the ${csrfHeader} header`,
        );
      }
      const body = request.body as { code?: string; recoveryCode?: string };
      const result = await completeSecondFactor(database, secrets, {
        sessionToken: token,
        code: body.code,
        recoveryCode: body.recoveryCode,
        ...requestInfo(request),
      });
      return signInReply(reply, result);
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: 'session' },
      schema: {
        tags: ['auth'],
        summary: 'Sign out (ends this session)',
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const caller = person(request);
      await signOut(database, callerActor(caller), caller.session.id, caller.userId);
      clearSessionCookies(reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/auth/session',
    {
      config: { access: 'session' },
      schema: {
        tags: ['auth'],
        summary: 'The signed-in person, their session and their workspaces',
        response: {
          200: Type.Object({
            user: UserSchema,
            session: Type.Object({
              mfa: Type.Boolean(),
              ssoWorkspace: Type.Union([Type.String(), Type.Null()]),
            }),
            memberships: Type.Array(
              Type.Object({
                workspace: Type.String(),
                role: Type.String(),
                clients: Type.Array(Type.String()),
                auditPeriod: Type.Union([
                  Type.Object({ start: Type.String(), end: Type.String() }),
                  Type.Null(),
                ]),
                expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const caller = person(request);
      const user = await findUserById(database.db, caller.userId);
      if (!user) throw new AssayError('unauthenticated', 'your account no longer exists');
      const slugs = new Map((await listWorkspaces(database.db)).map((w) => [w.id, w.slug]));
      const memberships = await listMembershipsOfUser(database.db, caller.userId);
      return {
        user: presentUser(user),
        session: {
          mfa: caller.session.mfa,
          ssoWorkspace:
            caller.session.ssoWorkspaceId === null
              ? null
              : (slugs.get(caller.session.ssoWorkspaceId) ?? null),
        },
        memberships: memberships.map((m) => ({
          workspace: m.slug,
          role: m.role,
          clients: m.client_workspace_ids.map((id) => slugs.get(id) ?? id),
          auditPeriod:
            m.audit_period_start !== null && m.audit_period_end !== null
              ? { start: m.audit_period_start, end: m.audit_period_end }
              : null,
          expiresAt: m.expires_at?.toISOString() ?? null,
        })),
      };
    },
  );

  app.post(
    '/auth/password',
    {
      config: { access: 'session' },
      schema: {
        tags: ['auth'],
        summary: 'Change your password (ends your other sessions)',
        body: Type.Object(
          {
            currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
            newPassword: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const caller = person(request);
      const user = await findUserById(database.db, caller.userId);
      if (!user) throw new AssayError('unauthenticated', 'your account no longer exists');
      const { ip } = requestInfo(request);
      await assertNotThrottled(database, user.email, ip);
      if (
        user.password_hash === null ||
        !(await verifyPassword(request.body.currentPassword, user.password_hash))
      ) {
        await recordSignInFailure(database, user.email, ip);
        throw new AssayError('invalid_credentials', 'the current password is wrong');
      }
      await setUserPassword(database, callerActor(caller), user, request.body.newPassword, caller.session.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/auth/totp/enroll',
    {
      config: { access: 'session' },
      schema: {
        tags: ['auth'],
        summary: 'Start enrolling an authenticator app: returns the secret and an otpauth:// URI',
        response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String() }), ...errors },
      },
    },
    async (request) => beginTotpEnrolment(database, secrets, person(request).userId),
  );

  app.post(
    '/auth/totp/confirm',
    {
      config: { access: 'session' },
      schema: {
        tags: ['auth'],
        summary: 'Confirm enrolment with a first code; returns recovery codes (shown once) and a new session',
        body: Type.Object(
          { code: Type.String({ minLength: 1, maxLength: 12 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ recoveryCodes: Type.Array(Type.String()), csrfToken: Type.String() }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const caller = person(request);
      const { recoveryCodes, session } = await confirmTotpEnrolment(database, secrets, {
        userId: caller.userId,
        sessionToken: readCookie(request, sessionCookie) ?? '',
        code: request.body.code,
        ...requestInfo(request),
      });
      setSessionCookies(reply, session);
      return { recoveryCodes, csrfToken: session.csrfToken };
    },
  );

  app.post(
    '/auth/recovery-codes',
    {
      config: { access: 'mfa-session' },
      schema: {
        tags: ['auth'],
        summary: 'Replace your recovery codes (needs a session signed in with the second factor)',
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }), ...errors },
      },
    },
    async (request) => {
      return { recoveryCodes: await regenerateRecoveryCodes(database, person(request).userId) };
    },
  );

  app.get(
    '/auth/oidc/:workspace/start',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: "Start single sign-on through the workspace's identity provider (redirects)",
        params: Type.Object({ workspace: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 302: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { url, cookie } = await beginSsoSignIn(
        database,
        secrets,
        request.params.workspace,
        callbackUrl(request),
      );
      // Lax, not Strict: the browser must send it back when the provider redirects to the callback.
      appendCookie(reply, oidcStateCookie, cookie, {
        maxAgeSeconds: 600,
        httpOnly: true,
        sameSite: 'Lax',
        path: '/api/v1/auth/oidc',
      });
      return reply.redirect(url, 302);
    },
  );

  app.get(
    '/auth/oidc/callback',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Where the identity provider sends the browser back; signs in and redirects to the app',
        querystring: Type.Object(
          {
            code: Type.Optional(Type.String({ maxLength: 4096 })),
            state: Type.Optional(Type.String({ maxLength: 1024 })),
            iss: Type.Optional(Type.String({ maxLength: 1024 })),
            error: Type.Optional(Type.String({ maxLength: 200 })),
            error_description: Type.Optional(Type.String({ maxLength: 1000 })),
            session_state: Type.Optional(Type.String({ maxLength: 1024 })),
          },
          { additionalProperties: false },
        ),
        response: { 302: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const here = new URL(request.url, `${request.protocol}://${request.host}`);
      const result = await completeSsoSignIn(database, secrets, {
        cookie: readCookie(request, oidcStateCookie),
        callbackUrl: here,
        previousSessionToken: readCookie(request, sessionCookie),
        ...requestInfo(request),
      });
      appendCookie(reply, oidcStateCookie, '', {
        maxAgeSeconds: 0,
        httpOnly: true,
        sameSite: 'Lax',
        path: '/api/v1/auth/oidc',
      });
      setSessionCookies(reply, result.session);
      return reply.redirect(result.session.stage === 'mfa' ? '/?sign-in=totp' : '/', 302);
    },
  );
}
