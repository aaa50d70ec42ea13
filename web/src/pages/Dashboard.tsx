/** A workspace's dashboard: controls by criterion with status, recent drift, upcoming and overdue work, evidence freshness. */
import { api, must } from '../api/client.ts';
import { formatDate, useLoad } from '../hooks.ts';
import { Link } from '../router.tsx';
import { DataTable, Failure, Loading, Page, Stat, StatusBadge } from './common.tsx';

export function Dashboard({ workspace }: { workspace: string }) {
  const params = { path: { workspace } };
  const data = useLoad(async () => {
    const [controls, drift, tasks] = await Promise.all([
      api.GET('/api/v1/workspaces/{workspace}/controls', { params }),
      api.GET('/api/v1/workspaces/{workspace}/drift', { params }),
      api.GET('/api/v1/workspaces/{workspace}/tasks', { params: { ...params, query: { status: 'open' } } }),
    ]);
    return { controls: must(controls).controls, drift: must(drift).changes, tasks: must(tasks).tasks };
  }, [workspace]);
  // Freshness looks at every control's newest evidence, the slowest answer: the rest draws first.
  const freshnessLoad = useLoad(
    async () => must(await api.GET('/api/v1/workspaces/{workspace}/evidence/freshness', { params })).controls,
    [workspace],
  );

  if (data.loading && !data.data) return <Loading what="the dashboard" />;
  if (data.error || !data.data) return <Failure error={data.error ?? 'no data'} />;
  const { controls, drift, tasks } = data.data;
  const freshness = freshnessLoad.data ?? [];

  const byCriterion = new Map<string, typeof controls>();
  for (const c of controls) {
    for (const criterion of c.criteria)
      byCriterion.set(criterion, [...(byCriterion.get(criterion) ?? []), c]);
  }
  const criteria = [...byCriterion.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const count = (s: string) => controls.filter((c) => c.status === s).length;
  const now = Date.now();
  const overdue = tasks.filter((t) => t.dueAt !== null && Date.parse(t.dueAt) < now);
  const upcoming = tasks.filter((t) => t.dueAt === null || Date.parse(t.dueAt) >= now);
  const stale = freshness.filter((f) => f.newest?.stale);
  const none = freshness.filter((f) => f.newest === null);

  return (
    <Page title={`Dashboard: ${workspace}`}>
      <dl className="stats" data-ready="true" data-complete={freshnessLoad.data ? 'true' : undefined}>
        <Stat label="Controls" value={controls.length} />
        <Stat label="Passing" value={count('passing')} tone="good" />
        <Stat label="Failing" value={count('failing')} tone={count('failing') > 0 ? 'bad' : 'good'} />
        <Stat label="Overdue work" value={overdue.length} tone={overdue.length > 0 ? 'bad' : 'good'} />
        <Stat
          label="Stale evidence"
          value={freshnessLoad.data ? stale.length : '…'}
          tone={stale.length > 0 ? 'warn' : 'good'}
        />
      </dl>
      <div className="grid">
        <section aria-labelledby="drift-h" className="card">
          <h2 id="drift-h">Recent drift</h2>
          {drift.length === 0 ? <p>No control changed status in the last 30 days.</p> : null}
          <ul className="list">
            {drift.slice(0, 12).map((d) => (
              <li key={`${d.control}-${d.at}`}>
                <Link to={`/w/${workspace}/controls/${d.control}`}>
                  {d.control} {d.title}
                </Link>{' '}
                became <StatusBadge status={d.status} /> <span className="muted">on {formatDate(d.at)}</span>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="work-h" className="card">
          <h2 id="work-h">Work</h2>
          <h3>Overdue ({overdue.length})</h3>
          <ul className="list">
            {overdue.slice(0, 8).map((t) => (
              <li key={t.id}>
                {t.title} <span className="bad">due {formatDate(t.dueAt)}</span>
                {t.assignee ? <span className="muted"> · {t.assignee}</span> : null}
              </li>
            ))}
          </ul>
          <h3>Upcoming ({upcoming.length})</h3>
          <ul className="list">
            {upcoming.slice(0, 8).map((t) => (
              <li key={t.id}>
                {t.title} <span className="muted">due {formatDate(t.dueAt)}</span>
              </li>
            ))}
          </ul>
          <Link to={`/w/${workspace}/inbox`}>Open the inbox</Link>
        </section>
        <section aria-labelledby="fresh-h" className="card">
          <h2 id="fresh-h">Evidence freshness</h2>
          {freshnessLoad.loading ? <Loading what="evidence freshness" /> : null}
          {freshnessLoad.error ? <Failure error={freshnessLoad.error} /> : null}
          <p hidden={!freshnessLoad.data}>
            {freshness.length - stale.length - none.length} controls have fresh evidence, {stale.length}{' '}
            stale, {none.length} none yet.
          </p>
          <ul className="list">
            {stale.slice(0, 10).map((f) => (
              <li key={f.control}>
                <Link to={`/w/${workspace}/controls/${f.control}`}>
                  {f.control} {f.title}
                </Link>{' '}
                <span className="warn">stale since {formatDate(f.newest?.staleAfter)}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section aria-labelledby="criteria-h">
        <h2 id="criteria-h">Controls by criterion</h2>
        <DataTable
          className="criteria"
          columns={['Criterion', 'Controls and their status']}
          rows={criteria}
          row={(criterion) => (
            <tr key={criterion}>
              <th scope="row">{criterion}</th>
              <td>
                <ul className="chips">
                  {byCriterion.get(criterion)!.map((c) => (
                    <li key={c.id}>
                      <Link
                        to={`/w/${workspace}/controls/${c.templateId}`}
                        className={`chip status-${c.status}`}
                        title={c.title}
                      >
                        {c.templateId} <span className="visually-hidden">{c.title}: </span>
                        <span className="chip-status">{c.status.replaceAll('_', ' ')}</span>
                      </Link>
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          )}
        />
      </section>
    </Page>
  );
}
