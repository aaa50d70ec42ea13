/**
 * The app shell: who is signed in, the workspace switcher, navigation, and the view for the path.
 * Paths: /portfolio/:msp, /w/:ws (dashboard), /w/:ws/controls/:control, /w/:ws/coverage (Type II
 * heat map), /w/:ws/inbox, /w/:ws/access-reviews (and /:campaign), /w/:ws/audit, /w/:ws/registers.
 */
import { type ReactNode, useEffect, useState } from 'react';
import { api, must } from './api/client.ts';
import { formatDate, ReadOnly, useLoad, Viewer } from './hooks.ts';
import { AccessReviewCampaign } from './pages/AccessReviewCampaign.tsx';
import { AccessReviews } from './pages/AccessReviews.tsx';
import { AuditPage } from './pages/AuditPage.tsx';
import { ControlPage } from './pages/ControlPage.tsx';
import { Dashboard } from './pages/Dashboard.tsx';
import { HeatMap } from './pages/HeatMap.tsx';
import { Inbox } from './pages/Inbox.tsx';
import { Portfolio } from './pages/Portfolio.tsx';
import { Registers } from './pages/Registers.tsx';
import { Settings } from './pages/Settings.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { Link, match, navigate, useLocation } from './router.tsx';

export interface Session {
  email: string;
  name: string;
  platformAdmin: boolean;
  /** Workspaces reachable: own memberships and, for MSP staff, their listed clients. */
  workspaces: {
    slug: string;
    role: string;
    msp: boolean;
    via?: string;
    auditPeriod?: { start: string; end: string } | null;
    expiresAt?: string | null;
  }[];
}

async function loadSession(): Promise<Session | null> {
  const result = await api.GET('/api/v1/auth/session');
  if (result.response.status === 401) return null;
  const data = must(result);
  const workspaces: Session['workspaces'] = [];
  for (const m of data.memberships) {
    workspaces.push({
      slug: m.workspace,
      role: m.role,
      msp: m.clients.length > 0,
      auditPeriod: m.auditPeriod,
      expiresAt: m.expiresAt,
    });
    for (const client of m.clients)
      workspaces.push({ slug: client, role: m.role, msp: false, via: m.workspace });
  }
  if (data.user.platformAdmin) {
    const all = await api.GET('/api/v1/workspaces');
    for (const w of all.data?.workspaces ?? []) {
      if (!workspaces.some((x) => x.slug === w.slug))
        workspaces.push({ slug: w.slug, role: 'platform admin', msp: w.kind === 'msp' });
    }
  }
  return {
    email: data.user.email,
    name: data.user.displayName,
    platformAdmin: data.user.platformAdmin,
    workspaces,
  };
}

export function App() {
  const session = useLoad(loadSession, []);
  const { path } = useLocation();

  if (session.loading && !session.data) return <p className="loading">Loading…</p>;
  if (session.error) return <p role="alert">Assay is unreachable: {session.error}</p>;
  if (!session.data) return <SignIn onSignedIn={session.reload} />;
  return <Shell session={session.data} path={path} onSignedOut={session.reload} />;
}

function homeOf(session: Session): string {
  const msp = session.workspaces.find((w) => w.msp);
  if (msp) return `/portfolio/${msp.slug}`;
  const first = session.workspaces[0];
  return first ? `/w/${first.slug}` : '/';
}

function Shell({ session, path, onSignedOut }: { session: Session; path: string; onSignedOut: () => void }) {
  const workspace = path.startsWith('/w/') ? decodeURIComponent(path.split('/')[2] ?? '') : undefined;
  const portfolio = match('/portfolio/:msp', path);
  useEffect(() => {
    if (path === '/' || path === '/signin') navigate(homeOf(session), { replace: true });
  }, [path, session]);
  const [menuOpen, setMenuOpen] = useState(false);

  const signOut = async () => {
    await api.POST('/api/v1/auth/logout');
    navigate('/', { replace: true });
    onSignedOut();
  };

  const current = workspace ?? portfolio?.msp ?? '';
  const membership = session.workspaces.find((w) => w.slug === current);
  const nav = workspace
    ? [
        ['Dashboard', `/w/${workspace}`],
        ['Type II coverage', `/w/${workspace}/coverage`],
        ['Inbox', `/w/${workspace}/inbox`],
        ['Access reviews', `/w/${workspace}/access-reviews`],
        ['Audit', `/w/${workspace}/audit`],
        ['Registers', `/w/${workspace}/registers`],
        ['Settings', `/w/${workspace}/settings`],
      ]
    : [];
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to={homeOf(session)} className="brand">
          Assay
        </Link>
        <label className="switcher">
          <span>Workspace</span>
          <select
            value={current}
            onChange={(event) => {
              const target = session.workspaces.find((w) => w.slug === event.target.value);
              if (target) navigate(target.msp ? `/portfolio/${target.slug}` : `/w/${target.slug}`);
            }}
          >
            {current === '' ? <option value="">Choose…</option> : null}
            {session.workspaces.map((w) => (
              <option key={w.slug} value={w.slug}>
                {w.via ? `${w.via} › ${w.slug}` : w.slug}
                {w.msp ? ' (portfolio)' : ''}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <nav id="main-nav" aria-label="Main" className={menuOpen ? 'open' : ''}>
          <ul>
            {nav.map(([label, to]) => (
              <li key={to}>
                <Link
                  to={to!}
                  aria-current={path === to ? 'page' : undefined}
                  onClick={() => setMenuOpen(false)}
                >
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>{session.name || session.email}</span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {membership?.role === 'auditor' ? (
          <p className="banner" role="note">
            Read-only auditor access
            {membership.auditPeriod
              ? ` to the period ${membership.auditPeriod.start} to ${membership.auditPeriod.end}`
              : ''}
            {membership.expiresAt ? `, until ${formatDate(membership.expiresAt)}` : ''}. Every view you open
            is logged.
          </p>
        ) : null}
        <ReadOnly.Provider value={membership?.role === 'auditor'}>
          <Viewer.Provider value={{ email: session.email, role: membership?.role }}>
            <View path={path} />
          </Viewer.Provider>
        </ReadOnly.Provider>
      </main>
    </>
  );
}

const views: [string, (p: Record<string, string>) => ReactNode][] = [
  ['/portfolio/:msp', (p) => <Portfolio msp={p.msp!} />],
  ['/w/:ws', (p) => <Dashboard workspace={p.ws!} />],
  ['/w/:ws/controls/:control', (p) => <ControlPage workspace={p.ws!} control={p.control!} />],
  ['/w/:ws/coverage', (p) => <HeatMap workspace={p.ws!} />],
  ['/w/:ws/inbox', (p) => <Inbox workspace={p.ws!} />],
  ['/w/:ws/access-reviews', (p) => <AccessReviews workspace={p.ws!} />],
  [
    '/w/:ws/access-reviews/:campaign',
    (p) => <AccessReviewCampaign workspace={p.ws!} campaign={p.campaign!} />,
  ],
  ['/w/:ws/audit', (p) => <AuditPage workspace={p.ws!} />],
  ['/w/:ws/registers', (p) => <Registers workspace={p.ws!} />],
  ['/w/:ws/settings', (p) => <Settings workspace={p.ws!} />],
];

function View({ path }: { path: string }) {
  for (const [pattern, render] of views) {
    const params = match(pattern, path);
    if (params) return render(params);
  }
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no page at {path}.</p>
    </section>
  );
}
