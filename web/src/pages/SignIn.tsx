/** Sign-in: password, then a TOTP code (or a recovery code) when required; first-time enrolment of a TOTP app. */

import { type FormEvent, useState } from 'react';
import { api, problem } from '../api/client.ts';
import { Failure } from './common.tsx';

type Step =
  | { kind: 'password' }
  | { kind: 'totp' }
  | { kind: 'enrol'; secret?: string; uri?: string }
  | { kind: 'recovery-codes'; codes: string[] };

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = (fn: (form: FormData) => Promise<void>) => async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      await fn(new FormData(event.currentTarget));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const afterStatus = async (status: 'signed_in' | 'mfa_required' | 'mfa_enrollment_required') => {
    if (status === 'signed_in') onSignedIn();
    else if (status === 'mfa_required') setStep({ kind: 'totp' });
    else {
      const enrol = await api.POST('/api/v1/auth/totp/enroll');
      if (!enrol.data) throw new Error(problem(enrol.error));
      setStep({ kind: 'enrol', secret: enrol.data.secret, uri: enrol.data.otpauthUri });
    }
  };

  return (
    <main id="main" className="signin">
      <h1>Sign in to Assay</h1>
      {error ? <Failure error={error} /> : null}
      {step.kind === 'password' ? (
        <form
          onSubmit={submit(async (form) => {
            const result = await api.POST('/api/v1/auth/login', {
              body: { email: String(form.get('email')), password: String(form.get('password')) },
            });
            if (!result.data) throw new Error(problem(result.error));
            await afterStatus(result.data.status);
          })}
        >
          <label>
            Email
            <input name="email" type="email" autoComplete="username" required />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" required />
          </label>
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
      ) : null}
      {step.kind === 'password' ? (
        <form
          className="sso"
          onSubmit={(event) => {
            event.preventDefault();
            const slug = String(new FormData(event.currentTarget).get('workspace')).trim();
            if (slug) window.location.assign(`/api/v1/auth/oidc/${encodeURIComponent(slug)}/start`);
          }}
        >
          <label>
            Or single sign-on: your workspace
            <input name="workspace" autoComplete="organization" placeholder="acme" />
          </label>
          <button type="submit">Continue with single sign-on</button>
        </form>
      ) : null}
      {step.kind === 'totp' ? (
        <form
          onSubmit={submit(async (form) => {
            const code = String(form.get('code')).trim();
            const body = /^\d{6,8}$/.test(code) ? { code } : { recoveryCode: code };
            const result = await api.POST('/api/v1/auth/login/totp', { body });
            if (!result.data) throw new Error(problem(result.error));
            await afterStatus(result.data.status);
          })}
        >
          <label>
            Authenticator code (or a recovery code)
            <input name="code" inputMode="numeric" autoComplete="one-time-code" required />
          </label>
          <button type="submit" disabled={busy}>
            Verify
          </button>
        </form>
      ) : null}
      {step.kind === 'enrol' ? (
        <form
          onSubmit={submit(async (form) => {
            const result = await api.POST('/api/v1/auth/totp/confirm', {
              body: { code: String(form.get('code')).trim() },
            });
            if (!result.data) throw new Error(problem(result.error));
            setStep({ kind: 'recovery-codes', codes: result.data.recoveryCodes });
          })}
        >
          <p>
            Your role needs a second factor. Add this key to your authenticator app, then enter the code it
            shows.
          </p>
          <p>
            Secret key: <code data-testid="totp-secret">{step.secret}</code>
          </p>
          <label>
            Authenticator code
            <input name="code" inputMode="numeric" autoComplete="one-time-code" required />
          </label>
          <button type="submit" disabled={busy}>
            Confirm
          </button>
        </form>
      ) : null}
      {step.kind === 'recovery-codes' ? (
        <section aria-labelledby="codes">
          <h2 id="codes">Recovery codes</h2>
          <p>
            Keep these somewhere safe: each signs you in once if you lose your authenticator. They are shown
            only now.
          </p>
          <ul className="codes">
            {step.codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" onClick={onSignedIn}>
            Continue
          </button>
        </section>
      ) : null}
    </main>
  );
}
