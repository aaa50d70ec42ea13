import type { ReactNode } from 'react';

const statusLabels: Record<string, string> = {
  passing: 'Passing',
  failing: 'Failing',
  at_risk: 'At risk',
  no_data: 'No data',
  not_evaluated: 'Not evaluated',
};

/** A status with a text label as well as a colour, so colour is never the only signal. */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status}`}>{statusLabels[status] ?? status.replaceAll('_', ' ')}</span>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Failure({ error }: { error: string }) {
  return (
    <p role="alert" className="error">
      {error}
    </p>
  );
}

export function Page({ title, children, lead }: { title: string; lead?: ReactNode; children: ReactNode }) {
  return (
    <section className="page">
      <h1>{title}</h1>
      {lead ? <p className="lead">{lead}</p> : null}
      {children}
    </section>
  );
}

export function Stat({
  label,
  value,
  tone,
}: {
  label: string;
  value: ReactNode;
  tone?: 'bad' | 'warn' | 'good';
}) {
  return (
    <div className={`stat ${tone ?? ''}`}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
