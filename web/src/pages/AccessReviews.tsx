/**
 * Access reviews: the workspace's campaigns with their progress, and launching one. Each campaign
 * reviews a snapshot taken at launch; its review screen is in AccessReviewCampaign.tsx.
 */
import { type FormEvent, useState } from 'react';
import { api, must, problem } from '../api/client.ts';
import { formatDate, useLoad, useReadOnly, useViewer } from '../hooks.ts';
import { Link, navigate } from '../router.tsx';
import { DataTable, Failure, Loading, Page, StatusBadge } from './common.tsx';

/** Roles holding `identities:write` (launch a campaign). */
const launchingRoles = new Set(['owner', 'admin', 'compliance_manager', 'platform admin']);

const campaignLabels: Record<string, string> = { open: 'Open', signed_off: 'Signed off' };

export function CampaignStatus({ status }: { status: string }) {
  return <StatusBadge kind="campaign" labels={campaignLabels} status={status} />;
}

export function reportHref(workspace: string, campaign: string): string {
  return `/api/v1/workspaces/${encodeURIComponent(workspace)}/access-reviews/${encodeURIComponent(campaign)}/report.csv`;
}

export function Progress({ decided, items, label }: { decided: number; items: number; label: string }) {
  return (
    <span className="progress">
      <progress value={decided} max={Math.max(items, 1)} aria-label={label} />{' '}
      <span>
        {decided} of {items} decided
      </span>
    </span>
  );
}

export function AccessReviews({ workspace }: { workspace: string }) {
  const list = useLoad(
    async () =>
      must(
        await api.GET('/api/v1/workspaces/{workspace}/access-reviews', { params: { path: { workspace } } }),
      ).campaigns,
    [workspace],
  );
  const readOnly = useReadOnly();
  const viewer = useViewer();
  const [error, setError] = useState<string>();
  const canLaunch = !readOnly && launchingRoles.has(viewer.role ?? '');

  const launch = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const systems = String(form.get('systems') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const result = await api.POST('/api/v1/workspaces/{workspace}/access-reviews', {
      params: { path: { workspace } },
      body: {
        name: String(form.get('name')),
        fallbackReviewer: String(form.get('fallbackReviewer')),
        dueInDays: Number(form.get('dueInDays')),
        scope: {
          ...(systems.length > 0 ? { systems } : {}),
          ...(form.get('privilegedOnly') ? { privilegedOnly: true } : {}),
        },
      },
    });
    if (result.error) setError(problem(result.error));
    else navigate(`/w/${workspace}/access-reviews/${result.data.id}`);
  };

  const campaigns = list.data ?? [];
  return (
    <Page
      title={`Access reviews: ${workspace}`}
      lead="Each campaign reviews who held what at its launch: every entitlement is kept, revoked or modified with a justification, and the signed-off decisions become evidence."
    >
      {list.loading && !list.data ? <Loading what="campaigns" /> : null}
      {list.error ? <Failure error={list.error} /> : null}
      {list.data ? (
        <section aria-labelledby="campaigns-h" className="card" data-ready="true">
          <h2 id="campaigns-h">Campaigns</h2>
          <DataTable
            className="campaigns"
            caption="Newest first"
            columns={['Campaign', 'Status', 'Launched', 'Due', 'Progress']}
            rows={campaigns}
            empty="No access review campaign yet."
            row={({ campaign, items, decided }) => {
              const overdue = campaign.status === 'open' && Date.parse(campaign.dueAt) < Date.now();
              return (
                <tr key={campaign.id}>
                  <th scope="row">
                    <Link to={`/w/${workspace}/access-reviews/${campaign.id}`}>{campaign.name}</Link>
                  </th>
                  <td>
                    <CampaignStatus status={campaign.status} />
                  </td>
                  <td>{formatDate(campaign.launchedAt)}</td>
                  <td className={overdue ? 'bad' : ''}>
                    {overdue ? 'overdue since ' : ''}
                    {formatDate(campaign.dueAt)}
                  </td>
                  <td>
                    <Progress decided={decided} items={items} label={`Progress of ${campaign.name}`} />
                  </td>
                </tr>
              );
            }}
          />
        </section>
      ) : null}
      <section aria-labelledby="launch-h" className="card" hidden={!canLaunch}>
        <h2 id="launch-h">Launch a campaign</h2>
        <p className="muted">
          The accounts in scope and their entitlements are snapshotted now. People are reviewed by their
          manager, non-human identities by their owner, everything else by the fallback reviewer.
        </p>
        <form onSubmit={launch}>
          <label>
            Name
            <input name="name" required maxLength={200} />
          </label>
          <label>
            Fallback reviewer (email)
            <input name="fallbackReviewer" type="email" required />
          </label>
          <label>
            Due in days
            <input name="dueInDays" type="number" min={1} max={365} required defaultValue={14} />
          </label>
          <label>
            Systems (comma-separated, empty for all)
            <input name="systems" placeholder="okta, aws-iam:123456789012" />
          </label>
          <label className="check">
            <input name="privilegedOnly" type="checkbox" /> Privileged entitlements only
          </label>
          <button type="submit">Launch campaign</button>
          {error ? <Failure error={error} /> : null}
        </form>
      </section>
    </Page>
  );
}
