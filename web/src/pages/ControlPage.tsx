/** One control: status timeline, checks, evidence with its ledger proof, owner, findings and exceptions. */
import { useState } from 'react';
import { api, must, problem } from '../api/client.ts';
import { formatDate, useLoad } from '../hooks.ts';
import { Link } from '../router.tsx';
import { DataTable, Failure, Loading, Page, StatusBadge } from './common.tsx';

function Timeline({
  intervals,
}: {
  intervals: { status: string; from: string; to: string | null; reason: string }[];
}) {
  if (intervals.length === 0) return <p>No status recorded yet.</p>;
  const start = Date.parse(intervals[0]!.from);
  const end = Date.now();
  const span = Math.max(end - start, 1);
  return (
    <>
      <div
        className="timeline"
        role="img"
        aria-label="Status over time; the table below lists every interval"
      >
        {intervals.map((i) => {
          const from = Date.parse(i.from);
          const to = i.to ? Date.parse(i.to) : end;
          return (
            <span
              key={i.from}
              className={`segment status-${i.status}`}
              style={{
                left: `${((from - start) / span) * 100}%`,
                width: `${Math.max(((to - from) / span) * 100, 0.8)}%`,
              }}
              title={`${i.status} ${formatDate(i.from)} – ${i.to ? formatDate(i.to) : 'now'}`}
            />
          );
        })}
      </div>
      <details>
        <summary>Every interval ({intervals.length})</summary>
        <DataTable
          wrap={false}
          columns={['Status', 'From', 'To', 'Why']}
          rows={[...intervals].reverse()}
          row={(i) => (
            <tr key={i.from}>
              <td>
                <StatusBadge status={i.status} />
              </td>
              <td>{formatDate(i.from)}</td>
              <td>{i.to ? formatDate(i.to) : 'now'}</td>
              <td>{i.reason}</td>
            </tr>
          )}
        />
      </details>
    </>
  );
}

function ProofBadge({ workspace, evidence }: { workspace: string; evidence: string }) {
  const [state, setState] = useState<
    { kind: 'idle' | 'busy' } | { kind: 'ok'; text: string } | { kind: 'bad'; text: string }
  >({
    kind: 'idle',
  });
  if (state.kind === 'ok')
    return (
      <span className="badge verified" title={state.text}>
        ✓ In signed checkpoint <span className="muted">{state.text}</span>
      </span>
    );
  if (state.kind === 'bad') return <span className="badge unverified">Not yet provable: {state.text}</span>;
  return (
    <button
      type="button"
      className="small"
      disabled={state.kind === 'busy'}
      onClick={async () => {
        setState({ kind: 'busy' });
        const result = await api.GET('/api/v1/workspaces/{workspace}/evidence/{evidence}/proof', {
          params: { path: { workspace, evidence } },
        });
        if (result.data) {
          const d = result.data;
          setState({
            kind: 'ok',
            text: `leaf ${d.leafIndex} of ${d.treeSize}, ${d.proof.length} proof hashes`,
          });
        } else setState({ kind: 'bad', text: problem(result.error) });
      }}
    >
      Verify proof
    </button>
  );
}

export function ControlPage({ workspace, control }: { workspace: string; control: string }) {
  const data = useLoad(async () => {
    const path = { workspace, control };
    const [detail, timeline, checks, evidence, findings, exceptions] = await Promise.all([
      api.GET('/api/v1/workspaces/{workspace}/controls/{control}', { params: { path } }),
      api.GET('/api/v1/workspaces/{workspace}/controls/{control}/timeline', { params: { path } }),
      api.GET('/api/v1/workspaces/{workspace}/checks', { params: { path: { workspace } } }),
      api.GET('/api/v1/workspaces/{workspace}/evidence', {
        params: { path: { workspace }, query: { control, limit: 15 } },
      }),
      api.GET('/api/v1/workspaces/{workspace}/findings', { params: { path: { workspace } } }),
      api.GET('/api/v1/workspaces/{workspace}/exceptions', { params: { path: { workspace } } }),
    ]);
    const c = must(detail);
    const checkIds = new Set(c.checks);
    return {
      control: c,
      intervals: must(timeline).intervals,
      checks: must(checks).checks.filter((k) => checkIds.has(k.id)),
      evidence: must(evidence).items,
      findings: must(findings).findings.filter(
        (f) => f.controlIds.includes(c.templateId) && f.status === 'open',
      ),
      exceptions: must(exceptions).exceptions.filter((e) => checkIds.has(e.checkId)),
    };
  }, [workspace, control]);

  if (data.loading && !data.data) return <Loading what="the control" />;
  if (data.error || !data.data) return <Failure error={data.error ?? 'no data'} />;
  const { control: c, intervals, checks, evidence, findings, exceptions } = data.data;
  return (
    <Page
      title={`${c.templateId} ${c.title}`}
      lead={
        <>
          <StatusBadge status={c.status} /> · {c.frequency} · owner{' '}
          {c.owner ?? <strong className="bad">none</strong>} ({c.ownerRole.replaceAll('_', ' ')}) · criteria{' '}
          {c.criteria.join(', ')}
        </>
      }
    >
      <p>{c.description}</p>
      <section aria-labelledby="tl-h" className="card" data-ready="true">
        <h2 id="tl-h">Status timeline</h2>
        <Timeline intervals={intervals} />
      </section>
      <div className="grid">
        <section aria-labelledby="checks-h" className="card">
          <h2 id="checks-h">Checks</h2>
          {checks.length === 0 ? <p>Operated by hand: no automated check.</p> : null}
          <ul className="list">
            {checks.map((k) => (
              <li key={k.id}>
                <strong>{k.title}</strong> <span className="muted">{k.id}</span>
                {k.enabled ? null : <span className="warn"> (disabled)</span>}
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="findings-h" className="card">
          <h2 id="findings-h">Open findings ({findings.length})</h2>
          <ul className="list">
            {findings.map((f) => (
              <li key={f.id}>
                <span className={`sev sev-${f.severity}`}>{f.severity}</span> {f.subject.name}: {f.detail}
              </li>
            ))}
          </ul>
          {findings.length > 0 ? <Link to={`/w/${workspace}/inbox`}>Handle in the inbox</Link> : null}
        </section>
        <section aria-labelledby="exc-h" className="card">
          <h2 id="exc-h">Exceptions ({exceptions.length})</h2>
          <ul className="list">
            {exceptions.map((e) => (
              <li key={e.id}>
                {e.status}: {e.justification}{' '}
                <span className="muted">
                  approved by {e.approver}, until {formatDate(e.expiresAt)}
                </span>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section aria-labelledby="ev-h">
        <h2 id="ev-h">Evidence (newest {evidence.length})</h2>
        <DataTable
          columns={['Kind', 'Subject', 'Effective', 'Fresh', 'Ledger']}
          rows={evidence}
          row={(e) => (
            <tr key={e.id}>
              <td>{e.kind}</td>
              <td>{e.subject?.name ?? e.subject?.id ?? '—'}</td>
              <td>{formatDate(e.effectiveAt)}</td>
              <td>{e.stale ? <span className="warn">stale</span> : 'fresh'}</td>
              <td>
                <ProofBadge workspace={workspace} evidence={e.id} />
              </td>
            </tr>
          )}
        />
      </section>
    </Page>
  );
}
