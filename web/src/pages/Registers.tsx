/** Registers: vendors (report freshness), risks (likelihood × impact heat map), policies, incidents, training. */
import { api, must } from '../api/client.ts';
import { formatDate, useLoad } from '../hooks.ts';
import { Failure, Loading, Page } from './common.tsx';

export function Registers({ workspace }: { workspace: string }) {
  const params = { path: { workspace } };
  const data = useLoad(async () => {
    const [vendors, risks, policies, incidents, courses] = await Promise.all([
      api.GET('/api/v1/workspaces/{workspace}/vendors', { params }),
      api.GET('/api/v1/workspaces/{workspace}/risks', { params }),
      api.GET('/api/v1/workspaces/{workspace}/policies', { params }),
      api.GET('/api/v1/workspaces/{workspace}/incidents', { params }),
      api.GET('/api/v1/workspaces/{workspace}/training/courses', { params }),
    ]);
    return {
      vendors: must(vendors).vendors,
      risks: must(risks).risks,
      policies: must(policies).policies,
      incidents: must(incidents).incidents,
      courses: must(courses).courses,
    };
  }, [workspace]);
  if (data.loading && !data.data) return <Loading what="the registers" />;
  if (data.error || !data.data) return <Failure error={data.error ?? 'no data'} />;
  const { vendors, risks, policies, incidents, courses } = data.data;
  const cells = new Map<string, number>();
  for (const r of risks) {
    const key = `${r.inherent.likelihood}-${r.inherent.impact}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  const levels = [5, 4, 3, 2, 1];
  return (
    <Page title={`Registers: ${workspace}`}>
      <div className="grid" data-ready="true">
        <section aria-labelledby="risk-h" className="card">
          <h2 id="risk-h">Risks ({risks.length})</h2>
          <table className="riskmap">
            <caption>Inherent risk by likelihood (rows) and impact (columns)</caption>
            <thead>
              <tr>
                <th scope="col">Likelihood</th>
                {[1, 2, 3, 4, 5].map((i) => (
                  <th scope="col" key={i}>
                    Impact {i}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {levels.map((l) => (
                <tr key={l}>
                  <th scope="row">{l}</th>
                  {[1, 2, 3, 4, 5].map((i) => (
                    <td key={i} className={`risk-${l * i >= 15 ? 'high' : l * i >= 8 ? 'medium' : 'low'}`}>
                      {cells.get(`${l}-${i}`) ?? ''}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="vendor-h" className="card">
          <h2 id="vendor-h">Vendors ({vendors.length})</h2>
          <ul className="list">
            {vendors.map((v) => (
              <li key={v.id}>
                <strong>{v.name}</strong>
                {v.criticality ? <span className="muted"> · {v.criticality}</span> : null}
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="pol-h" className="card">
          <h2 id="pol-h">Policies ({policies.length})</h2>
          <ul className="list">
            {policies.map((p) => (
              <li key={p.id}>
                <strong>{p.title}</strong>{' '}
                <span className="muted">next review {formatDate(p.nextReviewDue)}</span>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="inc-h" className="card">
          <h2 id="inc-h">Incidents ({incidents.length})</h2>
          <ul className="list">
            {incidents.map((i) => (
              <li key={i.id}>
                <strong>{i.reference}</strong> {i.title} <span className="muted">{i.status}</span>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="tr-h" className="card">
          <h2 id="tr-h">Training courses ({courses.length})</h2>
          <ul className="list">
            {courses.map((c) => (
              <li key={c.id}>
                <strong>{c.title}</strong>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </Page>
  );
}
