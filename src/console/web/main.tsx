import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post } from './api.js';
import { routeOf } from './components.js';
import { EndpointsPage, HostPage, HostsPage, NetworksPage, OverviewPage, TopologyPage, VmPage, type PageProps } from './pages.js';
import { SettingsPage } from './settings-page.js';

const NAV: [string, string][] = [
  ['', 'Overview'],
  ['hosts', 'Hosts'],
  ['topology', 'Topology'],
  ['vms', 'VMs'],
  ['networks', 'Networks'],
  ['settings', 'Settings'],
];

function Login({ kind, onDone }: { kind: string; onDone: () => void }) {
  const [error, setError] = useState('');
  return (
    <main id="main">
      <h1>Log in to Brindle</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const v = (e.currentTarget.elements.namedItem('secret') as HTMLInputElement).value;
          post('/api/login', kind === 'keystone' ? { token: v } : { password: v })
            .then(onDone)
            .catch((err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
        }}
      >
        <label for="secret">{kind === 'keystone' ? 'Keystone token of an admin (openstack token issue)' : 'Admin password'}</label>
        <input id="secret" name="secret" type="password" autocomplete="current-password" required />
        <button type="submit">Log in</button>
        {error !== '' && <p role="alert">{error}</p>}
      </form>
    </main>
  );
}

function page(props: PageProps) {
  const [top, second] = props.path;
  switch (top) {
    case undefined:
      return <OverviewPage />;
    case 'hosts':
      return second === undefined ? <HostsPage {...props} /> : <HostPage {...props} />;
    case 'vms':
      return second === undefined ? <EndpointsPage {...props} /> : <VmPage {...props} />;
    case 'networks':
      return <NetworksPage {...props} />;
    case 'topology':
      return <TopologyPage />;
    case 'settings':
      return <SettingsPage />;
    default:
      return <p role="alert">No such page.</p>;
  }
}

function App() {
  const [hash, setHash] = useState(location.hash);
  const [session, setSession] = useState<{ login: string; loggedIn: boolean } | undefined>(undefined);
  const check = (): void => void get<{ login: string; loggedIn: boolean }>('/api/session').then(setSession);
  useEffect(() => {
    const onHash = (): void => setHash(location.hash);
    const onLogin = (): void => check();
    window.addEventListener('hashchange', onHash);
    window.addEventListener('console-login', onLogin);
    check();
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('console-login', onLogin);
    };
  }, []);
  useEffect(() => {
    // Moving to another page moves the focus to its heading, as a screen reader user expects.
    document.getElementById('main')?.focus();
  }, [hash]);
  if (session === undefined) return <p aria-busy="true">Loading…</p>;
  if (!session.loggedIn) return <Login kind={session.login} onDone={check} />;
  const route = routeOf(hash);
  const navigate = (h: string): void => {
    location.hash = h;
  };
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header>
        <strong class="brand">Brindle</strong>
        <nav aria-label="console">
          <ul>
            {NAV.map(([p, label]) => (
              <li key={p}>
                <a href={`#/${p}`} aria-current={(route.path[0] ?? '') === p ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {session.login !== 'none' && (
          <button type="button" onClick={() => void post('/api/logout', {}).then(check)}>
            Log out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {page({ path: route.path, query: route.query, navigate })}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
