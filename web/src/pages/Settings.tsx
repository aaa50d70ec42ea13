/** Workspace settings: API tokens (create, shown once; revoke) and pull connectors with their last pull. */
import { type FormEvent, useState } from 'react';
import { api, must, problem } from '../api/client.ts';
import { formatDate, useLoad } from '../hooks.ts';
import { DataTable, Failure, Loading, Page } from './common.tsx';

const tokenPermissions = [
  'evidence:write',
  'evidence:read',
  'events:ingest',
  'controls:read',
  'findings:read',
  'audits:read',
] as const;

export function Settings({ workspace }: { workspace: string }) {
  const params = { path: { workspace } };
  const data = useLoad(async () => {
    const [tokens, connectors] = await Promise.all([
      api.GET('/api/v1/workspaces/{workspace}/tokens', { params }),
      api.GET('/api/v1/workspaces/{workspace}/connectors', { params }),
    ]);
    // Either list may be refused to a role without the right; show what the role may see.
    return {
      tokens: tokens.data?.tokens,
      connectors: connectors.data?.connectors,
      tokenError: tokens.error,
      connectorError: connectors.error,
    };
  }, [workspace]);
  const [secret, setSecret] = useState<string>();
  const [message, setMessage] = useState<string>();

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const permissions = form.getAll('permissions').map(String) as (typeof tokenPermissions)[number][];
    const result = await api.POST('/api/v1/workspaces/{workspace}/tokens', {
      params,
      body: { name: String(form.get('name')), permissions, expiresInDays: Number(form.get('days')) },
    });
    if (result.error) setMessage(problem(result.error));
    else {
      setSecret(must(result).secret);
      setMessage(undefined);
      data.reload();
    }
  };

  const revoke = async (token: string) => {
    const result = await api.DELETE('/api/v1/workspaces/{workspace}/tokens/{token}', {
      params: { path: { workspace, token } },
    });
    setMessage(result.error ? problem(result.error) : 'Token revoked.');
    data.reload();
  };

  if (data.loading && !data.data) return <Loading what="settings" />;
  if (data.error || !data.data) return <Failure error={data.error ?? 'no data'} />;
  const { tokens, connectors } = data.data;
  return (
    <Page title={`Settings: ${workspace}`}>
      <p aria-live="polite" className="message">
        {message}
      </p>
      <section aria-labelledby="tok-h" className="card" data-ready="true">
        <h2 id="tok-h">API tokens</h2>
        {tokens === undefined ? <p>Your role may not see this workspace’s tokens.</p> : null}
        {secret ? (
          <p role="status">
            New token (shown only now): <code>{secret}</code>
          </p>
        ) : null}
        {tokens ? (
          <DataTable
            columns={[
              'Name',
              'Permissions',
              'Expires',
              'Last used',
              'Status',
              { key: 'actions', label: <span className="visually-hidden">Actions</span> },
            ]}
            rows={tokens}
            row={(t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.permissions.join(', ')}</td>
                <td>{formatDate(t.expiresAt)}</td>
                <td>{formatDate(t.lastUsedAt)}</td>
                <td>{t.status}</td>
                <td>
                  {t.status === 'active' ? (
                    <button
                      type="button"
                      className="small"
                      onClick={() => revoke(t.id)}
                      aria-label={`Revoke ${t.name}`}
                    >
                      Revoke
                    </button>
                  ) : null}
                </td>
              </tr>
            )}
          />
        ) : null}
        {tokens ? (
          <form onSubmit={create} aria-labelledby="new-tok-h">
            <h3 id="new-tok-h">New token</h3>
            <label>
              Name
              <input name="name" required />
            </label>
            <fieldset>
              <legend>Permissions</legend>
              {tokenPermissions.map((p) => (
                <label key={p} className="check">
                  <input
                    type="checkbox"
                    name="permissions"
                    value={p}
                    defaultChecked={p === 'evidence:write'}
                  />{' '}
                  {p}
                </label>
              ))}
            </fieldset>
            <label>
              Expires after (days)
              <input name="days" type="number" min={1} max={365} defaultValue={30} required />
            </label>
            <button type="submit">Create token</button>
          </form>
        ) : null}
      </section>
      <section aria-labelledby="con-h" className="card">
        <h2 id="con-h">Connectors</h2>
        {connectors === undefined ? <p>Your role may not see this workspace’s connectors.</p> : null}
        {connectors?.length === 0 ? <p>No pull connectors (add one with assay connector add).</p> : null}
        <ul className="list">
          {connectors?.map((c) => (
            <li key={c.id}>
              <strong>{c.name}</strong> ({c.kind}){c.intervalMinutes ? ` every ${c.intervalMinutes} min` : ''}{' '}
              · last pull {formatDate(c.lastRunAt)} {c.lastStatus ?? ''}
              {c.lastError ? <span className="bad"> {c.lastError}</span> : null}
            </li>
          ))}
        </ul>
      </section>
    </Page>
  );
}
