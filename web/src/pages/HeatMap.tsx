/**
 * Type II coverage: controls × weeks of the period, each cell coloured by the worst of that week's
 * occurrences (missing or failed, late, exception, operated); a cell opens its occurrences.
 */
import { useState } from 'react';
import { api, must } from '../api/client.ts';
import { defaultPeriod, formatDate, isoDay, useLoad } from '../hooks.ts';
import { Link } from '../router.tsx';
import { Failure, Loading, Page, StatusBadge } from './common.tsx';

const rank: Record<string, number> = { missing: 5, failed: 5, late: 4, exception: 3, operated: 2 };
const week = 7 * 86_400_000;
/** Occurrence statuses read as the population export writes them, lower case. */
const occurrenceLabels: Record<string, string> = {
  operated: 'operated',
  late: 'late',
  missing: 'missing',
  failed: 'failed',
  exception: 'exception',
};

interface Occurrence {
  id: string;
  label: string;
  start: string;
  due: string;
  status: string;
  detail: string;
  evidenceIds: string[];
}

function cellStatus(occurrences: Occurrence[]): string {
  let worst = 'none';
  for (const o of occurrences) if ((rank[o.status] ?? 1) > (rank[worst] ?? 0)) worst = o.status;
  return worst === 'failed' ? 'missing' : worst;
}

export function HeatMap({ workspace }: { workspace: string }) {
  const periods = useLoad(
    async () =>
      must(await api.GET('/api/v1/workspaces/{workspace}/periods', { params: { path: { workspace } } }))
        .periods,
    [workspace],
  );
  const [period, setPeriod] = useState(defaultPeriod());
  const [selected, setSelected] = useState<{
    control: string;
    title: string;
    weekStart: Date;
    occurrences: Occurrence[];
  }>();
  const data = useLoad(
    async () =>
      must(
        await api.GET('/api/v1/workspaces/{workspace}/populations', {
          params: { path: { workspace }, query: { period } },
        }),
      ),
    [workspace, period],
  );

  const [fromText] = (data.data?.period ?? period).split('..');
  const start = Date.parse(`${fromText}T00:00:00Z`);
  const populations = data.data?.populations ?? [];
  let end = start + week;
  for (const p of populations) for (const o of p.occurrences) end = Math.max(end, Date.parse(o.start) + 1);
  const weeks = Math.max(1, Math.ceil((end - start) / week));
  const weekStarts = Array.from({ length: weeks }, (_, w) => start + w * week);

  return (
    <Page
      title={`Type II coverage: ${workspace}`}
      lead="Each row is a control, each column a week of the period. A cell shows the worst occurrence due that week; choose it to see them all."
    >
      <div className="toolbar">
        <label>
          Period
          <select value={period} onChange={(e) => setPeriod(e.target.value)}>
            <option value={defaultPeriod()}>Last 90 days</option>
            {(periods.data ?? []).map((p) => (
              <option key={p.id} value={p.name}>
                {p.name} ({p.startsOn} to {p.endsOn})
              </option>
            ))}
          </select>
        </label>
        <ul className="legend" aria-label="Legend">
          <li>
            <span className="cell status-operated" /> operated
          </li>
          <li>
            <span className="cell status-late" /> late
          </li>
          <li>
            <span className="cell status-missing" /> missing or failed
          </li>
          <li>
            <span className="cell status-exception" /> exception
          </li>
          <li>
            <span className="cell status-none" /> nothing due
          </li>
        </ul>
      </div>
      {data.loading ? <Loading what="populations" /> : null}
      {data.error ? <Failure error={data.error} /> : null}
      {selected ? (
        <section className="card detail" aria-labelledby="occ-h">
          <h2 id="occ-h">
            {selected.control}, week of {isoDay(selected.weekStart)}
          </h2>
          <p>
            <Link to={`/w/${workspace}/controls/${selected.control}`}>
              Open {selected.control} {selected.title}
            </Link>
          </p>
          {selected.occurrences.length === 0 ? <p>Nothing was due this week.</p> : null}
          <ul className="list">
            {selected.occurrences.map((o) => (
              <li key={o.id}>
                <StatusBadge kind="occ" labels={occurrenceLabels} status={o.status} /> {o.label}: {o.detail}{' '}
                <span className="muted">
                  due {formatDate(o.due)} · {o.evidenceIds.length} evidence
                </span>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setSelected(undefined)}>
            Close
          </button>
        </section>
      ) : null}
      {data.data ? (
        <div className="heatmap-wrap">
          <table className="heatmap" data-ready="true">
            <caption className="visually-hidden">Occurrences per control and week</caption>
            <thead>
              <tr>
                <th scope="col">Control</th>
                {weekStarts.map((weekStart, w) => (
                  <th scope="col" key={weekStart} title={isoDay(new Date(weekStart))}>
                    <span className="visually-hidden">week of </span>
                    {w % 4 === 0 ? isoDay(new Date(weekStart)).slice(5) : ''}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {populations.map((p) => {
                const buckets: Occurrence[][] = Array.from({ length: weeks }, () => []);
                for (const o of p.occurrences) {
                  const w = Math.min(
                    weeks - 1,
                    Math.max(0, Math.floor((Date.parse(o.start) - start) / week)),
                  );
                  buckets[w]!.push(o);
                }
                return (
                  <tr key={p.templateId}>
                    <th scope="row" title={p.title}>
                      {p.templateId}
                    </th>
                    {buckets.map((occurrences, w) => {
                      const status = cellStatus(occurrences);
                      const weekStart = new Date(start + w * week);
                      return (
                        <td key={weekStart.getTime()}>
                          <button
                            type="button"
                            className={`cell status-${status}`}
                            aria-label={`${p.templateId} week of ${isoDay(weekStart)}: ${status === 'none' ? 'nothing due' : status}`}
                            onClick={() =>
                              setSelected({ control: p.templateId, title: p.title, weekStart, occurrences })
                            }
                          />
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
