import { createContext, type DependencyList, useCallback, useContext, useEffect, useState } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads data for a view; reload() fetches again (after a change). */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names the dependencies
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) =>
        live &&
        setState({
          data: undefined,
          error: error instanceof Error ? error.message : String(error),
          loading: false,
        }),
    );
    return () => {
      live = false;
    };
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { ...state, reload };
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function daysAgo(days: number, from = new Date()): Date {
  return new Date(from.getTime() - days * 86_400_000);
}

/** The default Type II window the views judge: the last 90 days up to today. */
export function defaultPeriod(): string {
  return `${isoDay(daysAgo(90))}..${isoDay(new Date())}`;
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  return new Date(value).toLocaleDateString('en-GB', { year: 'numeric', month: 'short', day: 'numeric' });
}

export function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}

/** True where the signed-in person may only look (an auditor): views leave out their actions. */
export const ReadOnly = createContext(false);

export function useReadOnly(): boolean {
  return useContext(ReadOnly);
}

/** Who is signed in and their role in the current workspace (views offer only what the role may do). */
export interface ViewerInfo {
  email: string;
  role: string | undefined;
}

export const Viewer = createContext<ViewerInfo>({ email: '', role: undefined });

export function useViewer(): ViewerInfo {
  return useContext(Viewer);
}
