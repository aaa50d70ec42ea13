/** The MSP portfolio: every client's readiness, failing controls, overdue work and drift; sort and filter. */
import { useMemo, useState } from 'react';
import { api, must } from '../api/client.ts';
import { defaultPeriod, useLoad } from '../hooks.ts';
import { Link } from '../router.tsx';
import { DataTable, Failure, Loading, Page } from './common.tsx';

interface ClientRow {
  slug: string;
  name: string;
  readiness: number | null;
  controls: number;
  failing: number;
  openFindings: number;
  overdue: number;
  drift: number;
}

type SortKey = 'name' | 'readiness' | 'failing' | 'overdue' | 'drift';

async function loadClient(slug: string, name: string): Promise<ClientRow> {
  const params = { path: { workspace: slug } };
  const [controls, findings, tasks, drift] = await Promise.all([
    api.GET('/api/v1/workspaces/{workspace}/controls', { params }),
    api.GET('/api/v1/workspaces/{workspace}/findings', { params: { ...params, query: { status: 'open' } } }),
    api.GET('/api/v1/workspaces/{workspace}/tasks', { params: { ...params, query: { status: 'open' } } }),
    api.GET('/api/v1/workspaces/{workspace}/drift', { params }),
  ]);
  const now = Date.now();
  const controlList = must(controls).controls;
  return {
    slug,
    name,
    readiness: null,
    controls: controlList.length,
    failing: controlList.filter((c) => c.status === 'failing').length,
    openFindings: must(findings).findings.length,
    overdue: must(tasks).tasks.filter((t) => t.dueAt !== null && Date.parse(t.dueAt) < now).length,
    drift: must(drift).changes.length,
  };
}

export function Portfolio({ msp }: { msp: string }) {
  const period = defaultPeriod();
  const clients = useLoad(async () => {
    const list = must(await api.GET('/api/v1/workspaces', { params: { query: { parent: msp } } })).workspaces;
    return Promise.all(list.map((w) => loadClient(w.slug, w.name)));
  }, [msp]);
  // Readiness judges every occurrence of the period, the slowest answer: the counts draw first.
  const scores = useLoad(async () => {
    const list = must(await api.GET('/api/v1/workspaces', { params: { query: { parent: msp } } })).workspaces;
    const answers = await Promise.all(
      list.map((w) =>
        api.GET('/api/v1/workspaces/{workspace}/readiness', {
          params: { path: { workspace: w.slug }, query: { period } },
        }),
      ),
    );
    return new Map(list.map((w, i) => [w.slug, answers[i]?.data?.score ?? null]));
  }, [msp, period]);
  const [sort, setSort] = useState<SortKey>('readiness');
  const [filter, setFilter] = useState('');
  const [onlyFailing, setOnlyFailing] = useState(false);

  const rows = useMemo(() => {
    const list = (clients.data ?? [])
      .map((c) => ({ ...c, readiness: scores.data?.get(c.slug) ?? null }))
      .filter(
        (c) =>
          (filter === '' || `${c.slug} ${c.name}`.toLowerCase().includes(filter.toLowerCase())) &&
          (!onlyFailing || c.failing > 0),
      );
    const by: Record<SortKey, (a: ClientRow, b: ClientRow) => number> = {
      name: (a, b) => a.name.localeCompare(b.name),
      readiness: (a, b) => (a.readiness ?? -1) - (b.readiness ?? -1),
      failing: (a, b) => b.failing - a.failing,
      overdue: (a, b) => b.overdue - a.overdue,
      drift: (a, b) => b.drift - a.drift,
    };
    return [...list].sort(by[sort]);
  }, [clients.data, scores.data, filter, onlyFailing, sort]);

  return (
    <Page
      title={`Portfolio: ${msp}`}
      lead={`Every client workspace at a glance. Readiness is Type II operating effectiveness over ${period.replace('..', ' to ')}; drift counts control status changes in the last 30 days.`}
    >
      <div className="toolbar">
        <label>
          Filter clients
          <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
        <label>
          Sort by
          <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
            <option value="readiness">Readiness (lowest first)</option>
            <option value="failing">Failing controls</option>
            <option value="overdue">Overdue work</option>
            <option value="drift">Drift</option>
            <option value="name">Name</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={onlyFailing} onChange={(e) => setOnlyFailing(e.target.checked)} />
          Only clients with failing controls
        </label>
      </div>
      {clients.loading ? <Loading what="clients" /> : null}
      {clients.error ? <Failure error={clients.error} /> : null}
      {clients.data ? (
        <DataTable
          className="portfolio"
          data-ready="true"
          data-complete={scores.data ? 'true' : undefined}
          caption={`${rows.length} client workspaces`}
          columns={[
            'Client',
            'Readiness',
            'Failing controls',
            'Open findings',
            'Overdue work',
            'Drift (30 days)',
          ]}
          rows={rows}
          row={(c) => (
            <tr key={c.slug}>
              <th scope="row">
                <Link to={`/w/${c.slug}`}>{c.name}</Link> <span className="muted">{c.slug}</span>
              </th>
              <td>
                {c.readiness === null ? (
                  scores.loading ? (
                    '…'
                  ) : (
                    '—'
                  )
                ) : (
                  <meter
                    min={0}
                    max={100}
                    low={60}
                    high={85}
                    optimum={100}
                    value={c.readiness}
                    aria-label={`readiness of ${c.name}`}
                  >
                    {c.readiness}
                  </meter>
                )}{' '}
                {c.readiness === null ? '' : `${c.readiness.toFixed(1)}`}
              </td>
              <td className={c.failing > 0 ? 'bad' : ''}>
                {c.failing} of {c.controls}
              </td>
              <td>{c.openFindings}</td>
              <td className={c.overdue > 0 ? 'bad' : ''}>{c.overdue}</td>
              <td>{c.drift}</td>
            </tr>
          )}
        />
      ) : null}
    </Page>
  );
}
