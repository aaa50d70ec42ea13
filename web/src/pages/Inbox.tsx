/**
 * The inbox: open findings and their remediation tasks. A finding is resolved by fixing its cause
 * and re-running its check (which closes it), or by accepting a documented, time-limited exception.
 */
import { type FormEvent, useState } from 'react';
import { api, must, problem } from '../api/client.ts';
import { formatDate, isoDay, useLoad, useReadOnly } from '../hooks.ts';
import { Link } from '../router.tsx';
import { Failure, Loading, Page } from './common.tsx';

export function Inbox({ workspace }: { workspace: string }) {
  const params = { path: { workspace } };
  const data = useLoad(async () => {
    const [findings, tasks] = await Promise.all([
      api.GET('/api/v1/workspaces/{workspace}/findings', {
        params: { ...params, query: { status: 'open' } },
      }),
      api.GET('/api/v1/workspaces/{workspace}/tasks', { params: { ...params, query: { status: 'open' } } }),
    ]);
    return { findings: must(findings).findings, tasks: must(tasks).tasks };
  }, [workspace]);
  const [accepting, setAccepting] = useState<string>();
  const readOnly = useReadOnly();
  const [message, setMessage] = useState<string>();

  if (data.loading && !data.data) return <Loading what="the inbox" />;
  if (data.error || !data.data) return <Failure error={data.error ?? 'no data'} />;
  const { findings, tasks } = data.data;
  const taskOf = new Map(tasks.filter((t) => t.findingId).map((t) => [t.findingId!, t]));

  const recheck = async (checkId: string) => {
    setMessage(undefined);
    const result = await api.POST('/api/v1/workspaces/{workspace}/checks/run', {
      params,
      body: { checks: [checkId] },
    });
    setMessage(result.error ? problem(result.error) : `Re-ran ${checkId}.`);
    data.reload();
  };

  const accept = async (event: FormEvent<HTMLFormElement>, findingId: string) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const result = await api.POST('/api/v1/workspaces/{workspace}/exceptions', {
      params,
      body: {
        finding: findingId,
        justification: String(form.get('justification')),
        approver: String(form.get('approver')),
        expiresAt: String(form.get('expiresAt')),
      },
    });
    if (result.error) {
      setMessage(problem(result.error));
      return;
    }
    setAccepting(undefined);
    setMessage('Exception accepted: the finding is suppressed until it expires.');
    data.reload();
  };

  return (
    <Page
      title={`Inbox: ${workspace}`}
      lead={`${findings.length} open findings, ${tasks.length} open tasks.`}
    >
      <p aria-live="polite" className="message">
        {message}
      </p>
      <ul className="inbox" data-ready="true">
        {findings.map((f) => {
          const task = taskOf.get(f.id);
          const overdue = Date.parse(f.deadline) < Date.now();
          return (
            <li key={f.id} className="card finding">
              <h2 className="finding-title">
                <span className={`sev sev-${f.severity}`}>{f.severity}</span> {f.subject.name}
              </h2>
              <p>{f.detail}</p>
              <p className="muted">
                {f.checkId} · controls{' '}
                {f.controlIds.map((c) => (
                  <Link key={c} to={`/w/${workspace}/controls/${c}`}>
                    {c}{' '}
                  </Link>
                ))}
                · opened {formatDate(f.openedAt)} ·{' '}
                <span className={overdue ? 'bad' : ''}>
                  {overdue ? 'overdue since' : 'due'} {formatDate(f.deadline)}
                </span>
                {task?.assignee ? ` · assigned to ${task.assignee}` : f.owner ? ` · owner ${f.owner}` : ''}
              </p>
              <div className="actions" hidden={readOnly}>
                <button type="button" onClick={() => recheck(f.checkId)}>
                  Re-check now
                </button>
                <button
                  type="button"
                  onClick={() => setAccepting(accepting === f.id ? undefined : f.id)}
                  aria-expanded={accepting === f.id}
                >
                  Accept an exception
                </button>
              </div>
              {accepting === f.id ? (
                <form
                  className="exception"
                  onSubmit={(e) => accept(e, f.id)}
                  aria-label={`Exception for ${f.subject.name}`}
                >
                  <label>
                    Justification
                    <textarea name="justification" required minLength={1} />
                  </label>
                  <label>
                    Approver
                    <input name="approver" required />
                  </label>
                  <label>
                    Expires on
                    <input
                      name="expiresAt"
                      type="date"
                      required
                      defaultValue={isoDay(new Date(Date.now() + 90 * 86_400_000))}
                    />
                  </label>
                  <button type="submit">Accept exception</button>
                </form>
              ) : null}
            </li>
          );
        })}
      </ul>
      <section aria-labelledby="tasks-h">
        <h2 id="tasks-h">Other open tasks</h2>
        <ul className="list">
          {tasks
            .filter((t) => !t.findingId)
            .map((t) => (
              <li key={t.id}>
                {t.title} <span className="muted">due {formatDate(t.dueAt)}</span>
                {t.assignee ? <span className="muted"> · {t.assignee}</span> : null}
              </li>
            ))}
        </ul>
      </section>
    </Page>
  );
}
