// The shell: the sign-in page until a key is accepted, then the navigation and the page the
// URL names. The connection's trouble shows as a banner over the page, never as a blank one.
import { useEffect, useState } from 'preact/hooks';
import { describeError, UnreachableError } from './api/client.ts';
import { CachePage } from './pages/cache/CachePage.tsx';
import { ImportsPage } from './pages/imports/ImportsPage.tsx';
import { JobDetailPage } from './pages/jobs/JobDetailPage.tsx';
import { JobsPage } from './pages/jobs/JobsPage.tsx';
import { OverviewPage } from './pages/overview/OverviewPage.tsx';
import { ReportsPage } from './pages/reports/ReportsPage.tsx';
import { SchedulesPage } from './pages/schedules/SchedulesPage.tsx';
import { SignInPage } from './pages/signin/SignInPage.tsx';
import { WorkersPage } from './pages/workers/WorkersPage.tsx';
import { href, useRoute } from './route.ts';
import { endSession, type SessionState, sessionStore, signIn, storedKey } from './session.ts';
import { useStore } from './store.ts';

const RESUME_RETRY_MS = 3000;

const PAGES = [
  { segment: 'overview', title: 'Overview' },
  { segment: 'jobs', title: 'Jobs' },
  { segment: 'imports', title: 'Imports' },
  { segment: 'reports', title: 'Reports' },
  { segment: 'schedules', title: 'Schedules' },
  { segment: 'workers', title: 'Workers', admin: true },
  { segment: 'cache', title: 'Cache' },
];

export function App() {
  const state = useStore(sessionStore);
  const [resuming, setResuming] = useState(() => storedKey() !== undefined);
  const [resumeError, setResumeError] = useState<string | undefined>();

  // A reload keeps the tab's session: sign in again with the stored key. A server that cannot
  // be reached (restarting, say) keeps the key and is tried again; a refused key is dropped.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const resume = (): void => {
      const key = storedKey();
      if (key === undefined) {
        setResuming(false);
        return;
      }
      signIn(key).then(
        () => setResuming(false),
        (error: unknown) => {
          if (stopped) return;
          setResumeError(describeError(error));
          if (error instanceof UnreachableError) {
            timer = setTimeout(resume, RESUME_RETRY_MS);
            return;
          }
          endSession('signed-out');
          setResuming(false);
        },
      );
    };
    resume();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  if (state.session === undefined) {
    if (resuming)
      return (
        <main class="signin">
          <p class="message">Signing in…</p>
          {resumeError !== undefined && (
            <p class="message error" role="alert">
              {resumeError} Trying again…
            </p>
          )}
          <button
            type="button"
            onClick={() => {
              endSession('signed-out');
              setResuming(false);
            }}
          >
            Sign in with another key
          </button>
        </main>
      );
    return <SignInPage notice={state.notice ?? resumeError} />;
  }
  return <Shell state={state} />;
}

function Shell({ state }: { state: SessionState }) {
  const route = useRoute();
  const [page = 'overview', id] = route.segments;
  const isAdmin = state.session?.scopes.includes('admin') ?? false;
  const kinds = state.stats?.items.map((row) => row.kind) ?? [];
  return (
    <>
      <header>
        <strong class="brand">Offload</strong>
        <nav aria-label="Pages">
          {PAGES.filter((entry) => !entry.admin || isAdmin).map((entry) => (
            <a
              key={entry.segment}
              href={href([entry.segment])}
              aria-current={entry.segment === page ? 'page' : undefined}
            >
              {entry.title}
            </a>
          ))}
        </nav>
        <span class="who">
          {state.session?.owner} ({state.session?.scopes.join(', ')})
        </span>
        <button type="button" onClick={() => endSession('signed-out')}>
          Sign out
        </button>
      </header>
      {state.connection === 'unreachable' && (
        <p class="message warning banner" role="alert">
          The API server cannot be reached; the figures shown are the last received. Reconnecting…
        </p>
      )}
      {state.connection === 'crowded' && (
        <p class="message warning banner" role="alert">
          This key holds as many live streams as it may (in other tabs or clients); the figures shown are the
          last received. Retrying…
        </p>
      )}
      <main>
        {page === 'overview' && <OverviewPage state={state} />}
        {page === 'jobs' && id === undefined && <JobsPage route={route} kinds={kinds} />}
        {page === 'jobs' && id !== undefined && <JobDetailPage key={id} id={id} />}
        {page === 'imports' && <ImportsPage route={route} />}
        {page === 'reports' && <ReportsPage route={route} />}
        {page === 'schedules' && <SchedulesPage route={route} />}
        {page === 'workers' && <WorkersPage />}
        {page === 'cache' && <CachePage />}
        {!PAGES.some((entry) => entry.segment === page) && <p class="message">There is no page “{page}”.</p>}
      </main>
    </>
  );
}
