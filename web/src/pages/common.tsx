import type { ComponentPropsWithoutRef, ReactNode } from 'react';

const controlStatusLabels: Record<string, string> = {
  passing: 'Passing',
  failing: 'Failing',
  at_risk: 'At risk',
  no_data: 'No data',
  not_evaluated: 'Not evaluated',
};

/**
 * A status with a text label as well as a colour, so colour is never the only signal. `kind` picks
 * the stylesheet's colour family (`status-failing`, `campaign-open`, `decision-keep`, `occ-missing`);
 * a status without a label reads as its value with spaces for underscores.
 */
export function StatusBadge({
  status,
  kind = 'status',
  labels = controlStatusLabels,
}: {
  status: string;
  kind?: string;
  labels?: Readonly<Record<string, string>>;
}) {
  return <span className={`badge ${kind}-${status}`}>{labels[status] ?? status.replaceAll('_', ' ')}</span>;
}

/** A header cell: plain text, or a keyed node (e.g. a visually hidden label for an actions column). */
export type Column = string | { key: string; label: ReactNode };

/**
 * A data table with one header row of column headings and one body row per item, scrollable on
 * narrow screens. With `empty`, an empty list shows that sentence instead of a table with no rows.
 * Other props (class, `data-*`) go on the `<table>` itself, where the tests and stylesheet look.
 */
export function DataTable<T>({
  columns,
  rows,
  row,
  caption,
  empty,
  wrap = true,
  ...table
}: {
  columns: readonly Column[];
  rows: readonly T[];
  row: (item: T) => ReactNode;
  caption?: ReactNode;
  empty?: ReactNode;
  /** False for a table that sits in its own scrolling container (e.g. inside `<details>`). */
  wrap?: boolean;
} & Omit<ComponentPropsWithoutRef<'table'>, 'children'>) {
  if (empty !== undefined && rows.length === 0) return <p>{empty}</p>;
  const element = (
    <table {...table}>
      {caption === undefined ? null : <caption>{caption}</caption>}
      <thead>
        <tr>
          {columns.map((c) =>
            typeof c === 'string' ? (
              <th key={c} scope="col">
                {c}
              </th>
            ) : (
              <th key={c.key} scope="col">
                {c.label}
              </th>
            ),
          )}
        </tr>
      </thead>
      <tbody>{rows.map(row)}</tbody>
    </table>
  );
  return wrap ? <div className="table-wrap">{element}</div> : element;
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
