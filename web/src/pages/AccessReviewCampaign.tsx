/**
 * An access review campaign's review screen. The campaign reviews a snapshot taken at launch;
 * entitlements are grouped by reviewer, each decided keep / revoke / modify with a justification,
 * and once everything is decided the campaign is signed off (the decisions' SHA-256 goes into the
 * evidence ledger).
 */
import { type FormEvent, useState } from 'react';
import { api, must, type paths, problem } from '../api/client.ts';
import { formatDate, useLoad, useReadOnly, useViewer } from '../hooks.ts';
import { Link } from '../router.tsx';
import { CampaignStatus, Progress, reportHref } from './AccessReviews.tsx';
import { DataTable, Failure, Loading, Page, Stat, StatusBadge } from './common.tsx';

/** Roles holding `reviews:sign` (decide, delegate, sign off). */
const signingRoles = new Set([
  'owner',
  'admin',
  'compliance_manager',
  'control_owner',
  'reviewer',
  'platform admin',
]);

type Decision = 'keep' | 'revoke' | 'modify';
const decisionOptions: { value: Decision; label: string }[] = [
  { value: 'keep', label: 'Keep' },
  { value: 'revoke', label: 'Revoke' },
  { value: 'modify', label: 'Modify' },
];
const decisionLabels: Record<string, string> = { keep: 'Kept', revoke: 'Revoked', modify: 'Modify' };

type CampaignDetail =
  paths['/api/v1/workspaces/{workspace}/access-reviews/{campaign}']['get']['responses'][200]['content']['application/json'];
type Item = CampaignDetail['items'][number];

function subjectOf(item: Item): string {
  switch (item.subjectType) {
    case 'person':
      return item.person && item.person.toLowerCase() !== item.account.toLowerCase()
        ? `person: ${item.person}`
        : 'person in HR';
    case 'non_human':
      return item.owner ? `non-human, owned by ${item.owner}` : 'non-human, no owner';
    case 'unlinked':
      return 'no person in HR';
    case 'delegated':
      return 'MSP staff';
    default:
      return item.subjectType;
  }
}

function Revocation({ item }: { item: Item }) {
  if (item.decision !== 'revoke') return null;
  if (item.confirmedAt)
    return (
      <p className="muted">
        Removal confirmed {formatDate(item.confirmedAt)}
        {item.confirmation ? ` by ${item.confirmation}` : ''}
      </p>
    );
  if (item.taskId) return <p className="muted">Revocation task open until a source confirms the removal</p>;
  return null;
}

interface Draft {
  decision?: Decision;
  justification: string;
}

function ItemRow({
  item,
  editable,
  onSave,
}: {
  item: Item;
  editable: boolean;
  onSave: (item: Item, draft: Draft) => Promise<string | undefined>;
}) {
  const [draft, setDraft] = useState<Draft>({
    decision: (item.decision as Decision | null) ?? undefined,
    justification: item.justification ?? '',
  });
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const what = `${item.account}, ${item.entitlement}`;
  const justificationId = `justification-${item.id}`;
  const errorId = `error-${item.id}`;

  const save = async () => {
    if (!draft.decision) return setError('Choose keep, revoke or modify.');
    if (draft.justification.trim().length < 3) return setError('Say why (at least 3 characters).');
    setSaving(true);
    setError(await onSave(item, draft));
    setSaving(false);
  };

  return (
    <tr data-item={item.id} data-decision={item.decision ?? ''}>
      <th scope="row">
        {item.account}
        <div className="muted subject">{subjectOf(item)}</div>
      </th>
      <td>{item.system}</td>
      <td>
        {item.entitlement}
        {item.privileged ? <span className="badge privileged">Privileged</span> : null}
      </td>
      <td>
        {editable ? (
          <fieldset className="decision">
            <legend className="visually-hidden">Decision for {what}</legend>
            {decisionOptions.map((o) => (
              <label key={o.value} className="check">
                <input
                  type="radio"
                  name={`decision-${item.id}`}
                  value={o.value}
                  checked={draft.decision === o.value}
                  onChange={() => setDraft((d) => ({ ...d, decision: o.value }))}
                />{' '}
                {o.label}
              </label>
            ))}
          </fieldset>
        ) : null}
        {item.decision ? (
          <p>
            <StatusBadge kind="decision" labels={decisionLabels} status={item.decision} />{' '}
            <span className="muted">
              by {item.decidedBy} {formatDate(item.decidedAt)}
            </span>
          </p>
        ) : (
          <p className="muted">Undecided</p>
        )}
        <Revocation item={item} />
      </td>
      <td>
        {editable ? (
          <>
            <label className="visually-hidden" htmlFor={justificationId}>
              Justification for {what}
            </label>
            <textarea
              id={justificationId}
              rows={2}
              value={draft.justification}
              maxLength={2000}
              aria-describedby={error ? errorId : undefined}
              onChange={(e) => setDraft((d) => ({ ...d, justification: e.target.value }))}
            />
          </>
        ) : (
          (item.justification ?? '—')
        )}
        {error ? (
          <p id={errorId} role="alert" className="error">
            {error}
          </p>
        ) : null}
      </td>
      {editable ? (
        <td>
          <button type="button" className="small" onClick={save} disabled={saving}>
            Save<span className="visually-hidden"> decision for {what}</span>
          </button>
        </td>
      ) : null}
    </tr>
  );
}

function ReviewerGroup({
  reviewer,
  items,
  editable,
  you,
  onSave,
  onDelegate,
}: {
  reviewer: string;
  items: Item[];
  editable: boolean;
  you: boolean;
  onSave: (item: Item, draft: Draft) => Promise<string | undefined>;
  onDelegate: (from: string, to: string) => Promise<string | undefined>;
}) {
  const decided = items.filter((i) => i.decision).length;
  const headingId = `reviewer-${reviewer}`;
  const delegatedFrom = [...new Set(items.map((i) => i.delegatedFrom).filter(Boolean))];
  const [error, setError] = useState<string>();

  const delegate = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(await onDelegate(reviewer, String(new FormData(event.currentTarget).get('to'))));
  };

  return (
    <section aria-labelledby={headingId} className="card reviewer">
      <h2 id={headingId}>
        {reviewer}
        {you ? ' (you)' : ''}
      </h2>
      <p>
        <Progress decided={decided} items={items.length} label={`Decisions by ${reviewer}`} />
        {delegatedFrom.length > 0 ? (
          <span className="muted"> · delegated by {delegatedFrom.join(', ')}</span>
        ) : null}
      </p>
      {editable && !you ? (
        <p className="muted">
          Decisions saved here are recorded as {reviewer}’s; the audit trail names you as the person who
          entered them.
        </p>
      ) : null}
      <DataTable
        className="review"
        caption={`Entitlements reviewed by ${reviewer}`}
        columns={[
          'Account',
          'System',
          'Entitlement',
          'Decision',
          'Justification',
          ...(editable ? [{ key: 'save', label: <span className="visually-hidden">Save</span> }] : []),
        ]}
        rows={items}
        row={(item) => <ItemRow key={item.id} item={item} editable={editable} onSave={onSave} />}
      />
      {editable && decided < items.length ? (
        <form className="inline" onSubmit={delegate} aria-label={`Delegate ${reviewer}’s undecided items`}>
          <label>
            Hand {reviewer}’s undecided items to
            <input name="to" type="email" required />
          </label>
          <button type="submit">Delegate</button>
          {error ? <Failure error={error} /> : null}
        </form>
      ) : null}
    </section>
  );
}

export function AccessReviewCampaign({
  workspace,
  campaign: campaignId,
}: {
  workspace: string;
  campaign: string;
}) {
  const path = { workspace, campaign: campaignId };
  const data = useLoad(
    async () =>
      must(await api.GET('/api/v1/workspaces/{workspace}/access-reviews/{campaign}', { params: { path } })),
    [workspace, campaignId],
  );
  const readOnly = useReadOnly();
  const viewer = useViewer();
  const [message, setMessage] = useState<string>();
  const [signError, setSignError] = useState<string>();

  if (data.loading && !data.data) return <Loading what="the campaign" />;
  if (data.error || !data.data) return <Failure error={data.error ?? 'no data'} />;
  const { campaign, items, changesSinceLaunch } = data.data;
  const open = campaign.status === 'open';
  const canSign = !readOnly && signingRoles.has(viewer.role ?? '');
  const editable = open && canSign;
  const decided = items.filter((i) => i.decision).length;
  const revocations = items.filter((i) => i.decision === 'revoke').length;
  const me = viewer.email.toLowerCase();

  const byReviewer = new Map<string, Item[]>();
  for (const item of items) byReviewer.set(item.reviewer, [...(byReviewer.get(item.reviewer) ?? []), item]);
  // The signed-in reviewer's own items first, then the others by name.
  const reviewers = [...byReviewer.keys()].sort(
    (a, b) => Number(b.toLowerCase() === me) - Number(a.toLowerCase() === me) || a.localeCompare(b),
  );
  const accountOf = new Map(items.filter((i) => i.identityId).map((i) => [i.identityId!, i.account]));

  const saveDecision = async (item: Item, draft: Draft): Promise<string | undefined> => {
    const result = await api.POST('/api/v1/workspaces/{workspace}/access-reviews/{campaign}/decisions', {
      params: { path },
      body: {
        item: item.id,
        decision: draft.decision!,
        justification: draft.justification.trim(),
        reviewer: item.reviewer,
      },
    });
    if (result.error) return problem(result.error);
    setMessage(
      `${decisionLabels[result.data.decision ?? ''] ?? result.data.decision}: ${item.account}, ${item.entitlement}.`,
    );
    data.reload();
    return undefined;
  };

  const delegate = async (from: string, to: string): Promise<string | undefined> => {
    const result = await api.POST('/api/v1/workspaces/{workspace}/access-reviews/{campaign}/delegations', {
      params: { path },
      body: { from, to },
    });
    if (result.error) return problem(result.error);
    setMessage(`${result.data.delegated} undecided items handed from ${from} to ${to}.`);
    data.reload();
    return undefined;
  };

  const signOff = async () => {
    const result = await api.POST('/api/v1/workspaces/{workspace}/access-reviews/{campaign}/sign-off', {
      params: { path },
      body: { signer: viewer.email },
    });
    if (result.error) setSignError(problem(result.error));
    else {
      setSignError(undefined);
      setMessage('Campaign signed off: the decisions are recorded in the evidence ledger.');
      data.reload();
    }
  };

  return (
    <Page
      title={campaign.name}
      lead={
        <>
          <CampaignStatus status={campaign.status} /> launched {formatDate(campaign.launchedAt)} by{' '}
          {campaign.launchedBy} · due {formatDate(campaign.dueAt)} · snapshot{' '}
          <code title={campaign.snapshotSha256}>{campaign.snapshotSha256.slice(0, 12)}</code>
        </>
      }
    >
      <p>
        <Link to={`/w/${workspace}/access-reviews`}>All access reviews</Link>
      </p>
      <dl className="stats" data-ready="true">
        <Stat label="Entitlements" value={items.length} />
        <Stat label="Decided" value={decided} tone={decided === items.length ? 'good' : undefined} />
        <Stat
          label="To decide"
          value={items.length - decided}
          tone={items.length > decided ? 'warn' : 'good'}
        />
        <Stat label="Revocations" value={revocations} />
      </dl>
      <p>
        <Progress decided={decided} items={items.length} label="Decisions made" />
      </p>
      <p aria-live="polite" className="message">
        {message}
      </p>
      <section aria-labelledby="signoff-h" className="card signoff">
        <h2 id="signoff-h">Sign-off</h2>
        {open ? (
          decided < items.length ? (
            <p>Sign-off is possible once every entitlement is decided: {items.length - decided} left.</p>
          ) : canSign ? (
            <>
              <p>
                Every entitlement is decided. Signing off makes the decisions final and records them as
                evidence.
              </p>
              <button type="button" onClick={signOff}>
                Sign off as {viewer.email}
              </button>
            </>
          ) : (
            <p>Every entitlement is decided; a reviewer or compliance manager signs the campaign off.</p>
          )
        ) : (
          <dl className="facts">
            <dt>Signed off by</dt>
            <dd>{campaign.signedOffBy}</dd>
            <dt>Signed off</dt>
            <dd>
              {campaign.signedOffAt
                ? new Date(campaign.signedOffAt).toLocaleString('en-GB', {
                    dateStyle: 'medium',
                    timeStyle: 'short',
                  })
                : '—'}
            </dd>
            <dt>Decisions SHA-256</dt>
            <dd>
              <code className="hash">{campaign.decisionsSha256}</code>
            </dd>
            <dt>Evidence</dt>
            <dd>
              <code>{campaign.evidenceId}</code>
            </dd>
          </dl>
        )}
        {signError ? <Failure error={signError} /> : null}
        <p>
          <a className="button" href={reportHref(workspace, campaign.id)} download>
            Download the report (CSV)
          </a>{' '}
          <span className="muted">every entitlement by reviewer, with decisions and confirmations</span>
        </p>
      </section>
      {reviewers.map((reviewer) => (
        <ReviewerGroup
          key={reviewer}
          reviewer={reviewer}
          items={byReviewer.get(reviewer) ?? []}
          editable={editable}
          you={reviewer.toLowerCase() === me}
          onSave={saveDecision}
          onDelegate={delegate}
        />
      ))}
      <section aria-labelledby="changes-h" className="card">
        <h2 id="changes-h">Changes since launch</h2>
        <DataTable
          caption="Not under review: the snapshot stays as it was at launch"
          columns={['When', 'Account', 'System', 'Entitlement', 'Change', 'Source']}
          rows={changesSinceLaunch}
          empty="No entitlement of these accounts changed since the snapshot."
          row={(c) => (
            <tr key={`${c.identityId}-${c.entitlement}-${c.at}`}>
              <td>{formatDate(c.at)}</td>
              <td>{accountOf.get(c.identityId) ?? c.identityId}</td>
              <td>{c.system}</td>
              <td>
                {c.entitlement}
                {c.privileged ? <span className="badge privileged">Privileged</span> : null}
              </td>
              <td>{c.granted ? 'granted' : 'removed'}</td>
              <td>{c.source}</td>
            </tr>
          )}
        />
      </section>
    </Page>
  );
}
