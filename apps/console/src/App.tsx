import { useEffect, useMemo, useState } from 'react';
import { makeApi, type Api } from './api';
import { CALLBACK_PATH, completeSignIn, currentSession, signIn, signOut } from './auth';
import { loadConfig, type ConsoleConfig } from './config';
import { rolesOf, type Roles, type Session } from './roles';
import { Link, navigate, useLocation } from './router';
import { ErrorMessage, PageHeading } from './ui';
import { ApprovalsPage } from './pages/Approvals';
import { AuditPage } from './pages/Audit';
import { ConnectionsPage } from './pages/Connections';
import { HomePage } from './pages/Home';
import { PolicyPage } from './pages/Policy';
import { SessionReplayPage } from './pages/SessionReplay';
import { SessionsPage } from './pages/Sessions';

export interface PageProps {
  api: Api;
  session: Session;
  roles: Roles;
  config: ConsoleConfig;
}

const NAV: { href: string; label: string }[] = [
  { href: '/approvals', label: 'Approvals' },
  { href: '/sessions', label: 'Sessions' },
  { href: '/audit', label: 'Audit' },
  { href: '/connections', label: 'Connections' },
  { href: '/policy', label: 'Policy' },
];

export function App() {
  const [config, setConfig] = useState<ConsoleConfig>();
  const [error, setError] = useState<unknown>();
  const [session, setSession] = useState<Session | null>(() => currentSession());
  const { path, query } = useLocation();

  useEffect(() => {
    loadConfig().then(setConfig, setError);
  }, []);

  useEffect(() => {
    if (!config || path !== CALLBACK_PATH) return;
    completeSignIn(config, query).then(
      ({ returnTo }) => {
        setError(undefined);
        setSession(currentSession());
        navigate(returnTo);
      },
      (err: unknown) => {
        setError(err);
        navigate('/');
      },
    );
    // Only once per arrival on the callback page.
  }, [config, path]);

  const api = useMemo(
    () =>
      config && session
        ? makeApi(config, session, () => {
            signOut();
            setSession(null);
            setError(new Error('Your sign-in has expired or was refused by a service: sign in again.'));
          })
        : undefined,
    [config, session],
  );

  if (!config) {
    return (
      <main>
        <h1>Airlock console</h1>
        {error ? <ErrorMessage error={error} /> : <p>Loading…</p>}
      </main>
    );
  }

  if (!session || !api) {
    return (
      <>
        <header className="banner">
          <p className="brand">Airlock console</p>
        </header>
        <main id="main">
          <PageHeading>Sign in</PageHeading>
          <ErrorMessage error={error} />
          {path === CALLBACK_PATH ? (
            <p>Finishing the sign-in…</p>
          ) : (
            <>
              <p>
                Sign in with your organisation&apos;s identity provider (<code>{config.issuer}</code>). The console acts
                with your own token: it sees and does what your groups allow.
              </p>
              <button
                type="button"
                onClick={() =>
                  signIn(config, path === '/' ? '/approvals' : `${path}${window.location.search}`).catch(setError)
                }
              >
                Sign in
              </button>
            </>
          )}
        </main>
      </>
    );
  }

  const roles = rolesOf(session, config);
  const props: PageProps = { api, session, roles, config };
  const replay = /^\/sessions\/([0-9a-fA-F-]{36})$/.exec(path);
  let page;
  if (path === '/' || path === CALLBACK_PATH) page = <HomePage {...props} />;
  else if (path === '/approvals') page = <ApprovalsPage {...props} />;
  else if (path === '/sessions') page = <SessionsPage {...props} />;
  else if (replay) page = <SessionReplayPage {...props} sessionId={replay[1].toLowerCase()} />;
  else if (path === '/audit') page = <AuditPage {...props} />;
  else if (path === '/connections') page = <ConnectionsPage {...props} />;
  else if (path === '/policy') page = <PolicyPage {...props} />;
  else
    page = (
      <>
        <PageHeading>Not found</PageHeading>
        <p>There is no page at {path}.</p>
      </>
    );

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="banner">
        <p className="brand">
          <Link href="/">Airlock console</Link>
        </p>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <Link
                  href={item.href}
                  aria-current={path === item.href || path.startsWith(`${item.href}/`) ? 'page' : undefined}
                >
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            Signed in as <strong data-testid="subject">{session.subject}</strong>
          </span>{' '}
          <button
            type="button"
            onClick={() => {
              signOut();
              setSession(null);
              navigate('/');
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" key={path}>
        {page}
      </main>
    </>
  );
}
