/** Audit: periods, readiness of the chosen period, its request list (PBC), and the auditor package download. */
import { type FormEvent, useState } from 'react';
import { api, must, problem } from '../api/client.ts';
import { daysAgo, formatDate, isoDay, percent, useLoad, useReadOnly } from '../hooks.ts';
import { Link } from '../router.tsx';
import { Failure, Loading, Page, Stat } from './common.tsx';

function PeriodDetail({ workspace, period }: { workspace: string; period: string }) {
  const data = useLoad(async () => {
    const path = { workspace, period };
    const [readiness, requests] = await Promise.all([
      api.GET('/api/v1/workspaces/{workspace}/readiness', {
        params: { path: { workspace }, query: { period } },
      }),
      api.GET('/api/v1/workspaces/{workspace}/periods/{period}/requests', { params: { path } }),
    ]);
    return { readiness: must(readiness), requests: must(requests).requests };
  }, [workspace, period]);
  if (data.loading && !data.data) return <Loading what="readiness" />;
  if (data.error || !data.data) return <Failure error={data.error ?? 'no data'} />;
  const { readiness, requests } = data.data;
  const href = `/api/v1/workspaces/${encodeURIComponent(workspace)}/exports/package?period=${encodeURIComponent(period)}`;
  return (
    <section aria-labelledby="pd-h" className="card" data-ready="true">
      <h2 id="pd-h">{period}</h2>
      <dl className="stats">
        <Stat
          label="Readiness score"
          value={readiness.score.toFixed(1)}
          tone={readiness.score >= 85 ? 'good' : 'warn'}
        />
        <Stat label="Chance a sample finds a deviation" value={percent(readiness.probabilityAnyDeviation)} />
        <Stat label="Controls" value={readiness.controls.length} />
        <Stat label="Gaps" value={readiness.gaps.length} tone={readiness.gaps.length > 0 ? 'bad' : 'good'} />
      </dl>
      <p>
        <a className="button" href={href} download>
          Download the auditor package
        </a>{' '}
        <span className="muted">
          a zip with populations, evidence and proofs, OSCAL results and a signed manifest
        </span>
      </p>
      <h3>Gaps the auditor would likely find</h3>
      <ul className="list">
        {readiness.gaps.slice(0, 10).map((g) => (
          <li key={g.templateId}>
            <Link to={`/w/${workspace}/controls/${g.templateId}`}>
              {g.templateId} {g.title}
            </Link>
            : {g.deviations} deviating {g.unit}s ({percent(g.probabilityOfDeviationInSample)} in a sample).{' '}
            {g.advice}
          </li>
        ))}
      </ul>
      <h3>Request list ({requests.length})</h3>
      {requests.length === 0 ? (
        <p>No request list imported for this period yet (assay requests import).</p>
      ) : null}
      <ul className="list">
        {requests.map((r) => (
          <li key={r.id}>
            <strong>{r.ref}</strong> {r.description} — {r.status}
            {r.overdue ? <span className="bad"> overdue</span> : null}
            <span className="muted"> due {formatDate(r.dueOn)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function AuditPage({ workspace }: { workspace: string }) {
  const periods = useLoad(
    async () =>
      must(await api.GET('/api/v1/workspaces/{workspace}/periods', { params: { path: { workspace } } }))
        .periods,
    [workspace],
  );
  const [chosen, setChosen] = useState<string>();
  const [error, setError] = useState<string>();
  const readOnly = useReadOnly();
  const list = periods.data ?? [];
  const current = chosen ?? list[0]?.name;

  const declare = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const result = await api.POST('/api/v1/workspaces/{workspace}/periods', {
      params: { path: { workspace } },
      body: {
        name: String(form.get('name')),
        type: 'type2',
        from: String(form.get('from')),
        to: String(form.get('to')),
      },
    });
    if (result.error) setError(problem(result.error));
    else {
      setError(undefined);
      setChosen(result.data.name);
      periods.reload();
    }
  };

  return (
    <Page title={`Audit: ${workspace}`}>
      {periods.loading && !periods.data ? <Loading what="periods" /> : null}
      {periods.error ? <Failure error={periods.error} /> : null}
      <div className="grid">
        <section aria-labelledby="periods-h" className="card">
          <h2 id="periods-h">Audit periods</h2>
          {list.length === 0 ? <p>No audit period yet.</p> : null}
          <ul className="list">
            {list.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  className="link"
                  aria-pressed={p.name === current}
                  onClick={() => setChosen(p.name)}
                >
                  {p.name}
                </button>{' '}
                <span className="muted">
                  {p.reportType} {p.startsOn} to {p.endsOn}
                </span>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="declare-h" className="card" hidden={readOnly}>
          <h2 id="declare-h">Declare a Type II period</h2>
          <form onSubmit={declare}>
            <label>
              Name
              <input name="name" required defaultValue={`FY${new Date().getFullYear()}`} />
            </label>
            <label>
              From
              <input name="from" type="date" required defaultValue={isoDay(daysAgo(180))} />
            </label>
            <label>
              To
              <input name="to" type="date" required defaultValue={isoDay(daysAgo(1))} />
            </label>
            <button type="submit">Declare period</button>
            {error ? <Failure error={error} /> : null}
          </form>
        </section>
      </div>
      {current ? <PeriodDetail key={current} workspace={workspace} period={current} /> : null}
    </Page>
  );
}
