import { FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, call, Me, storedToken, storeToken, whenUnauthenticated } from './api';
import { Notice, NoticeKind, NoticeMsg } from './components';
import { useRoute } from './router';
import { WebhooksList } from './pages/WebhooksList';
import { WebhookForm } from './pages/WebhookForm';
import { WebhookDetail } from './pages/WebhookDetail';
import { EventsPage } from './pages/EventsPage';
import { ApprovalsPage } from './pages/ApprovalsPage';

export type Notify = (kind: NoticeKind, text: string) => void;

export function isAdmin(me: Me): boolean {
  return me.roles.includes('approver') || me.roles.includes('entity_manager');
}

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(Boolean(storedToken()));
  const [notice, setNotice] = useState<NoticeMsg | null>(null);
  const notify = useCallback<Notify>((kind, text) => setNotice({ kind, text, id: Date.now() }), []);

  const signOut = useCallback((why?: string) => {
    storeToken(null);
    setMe(null);
    setNotice(why ? { kind: 'info', text: why, id: Date.now() } : null);
  }, []);

  useEffect(() => {
    whenUnauthenticated(() => signOut('Your session ended: the token is no longer valid. Sign in again.'));
    const token = storedToken();
    if (!token) return;
    call<Me>('GET', '/v2/me', undefined, token)
      .then((r) => setMe(r.body))
      .catch(() => storeToken(null))
      .finally(() => setChecking(false));
  }, [signOut]);

  if (checking) return <p role="status">Loading…</p>;
  if (!me)
    return (
      <SignIn
        onSignedIn={(m) => {
          setNotice(null);
          setMe(m);
        }}
        notice={notice}
      />
    );
  return <Shell me={me} notice={notice} notify={notify} clearNotice={() => setNotice(null)} signOut={() => signOut()} />;
}

function SignIn({ onSignedIn, notice }: { onSignedIn: (me: Me) => void; notice: NoticeMsg | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    if (!token.trim()) return setError('Enter your API token.');
    setBusy(true);
    try {
      const r = await call<Me>('GET', '/v2/me', undefined, token.trim());
      storeToken(token.trim());
      onSignedIn(r.body);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'This token is not valid. Check it and try again.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="signin" id="main">
      <h1>Webhooks dashboard</h1>
      {notice && (
        <p role="status" className="notice notice-info">
          {notice.text}
        </p>
      )}
      <form onSubmit={submit} noValidate aria-labelledby="signin-title">
        <h2 id="signin-title">Sign in</h2>
        <div className="field">
          <label htmlFor="token">API token</label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={Boolean(error)}
            aria-describedby={error ? 'signin-error token-help' : 'token-help'}
          />
          <p id="token-help" className="help">
            An operator creates one with <code>npm run admin -- token:create</code>. It is kept for this browser tab only.
          </p>
          {error && (
            <p id="signin-error" className="field-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" className="primary" id="signin-button" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function Shell({ me, notice, notify, clearNotice, signOut }: { me: Me; notice: NoticeMsg | null; notify: Notify; clearNotice: () => void; signOut: () => void }) {
  const route = useRoute();
  const [section, id, sub] = route.parts;
  const admin = isAdmin(me);
  const dev = me.roles.includes('developer');
  const current = section ?? (dev ? 'webhooks' : admin ? 'approvals' : 'webhooks');

  let page;
  if (current === 'webhooks' && id === 'new') page = <WebhookForm key="new" notify={notify} />;
  else if (current === 'webhooks' && id && sub === 'edit') page = <WebhookForm key={`edit-${id}`} id={id} notify={notify} />;
  else if (current === 'webhooks' && id) page = <WebhookDetail key={id} id={id} me={me} notify={notify} focusTest={route.params.get('section') === 'test'} />;
  else if (current === 'webhooks') page = <WebhooksList notify={notify} />;
  else if (current === 'events') page = <EventsPage notify={notify} />;
  else if (current === 'approvals' && admin) page = <ApprovalsPage me={me} notify={notify} />;
  else if (current === 'approvals') page = <p>The Approvals tab needs the approver or entity manager role.</p>;
  else
    page = (
      <p>
        There is no such page. <a href="#/webhooks">Go to webhooks</a>.
      </p>
    );

  const link = (href: string, label: string, active: boolean) => (
    <a href={href} aria-current={active ? 'page' : undefined} className={active ? 'active' : undefined}>
      {label}
    </a>
  );
  /** A labelled group of tabs: [href, label, the page it shows]. */
  const tabGroup = (id: string, label: string, tabs: [string, string, string][]) => (
    <li className="tab-group">
      <span className="tab-group-label" id={id}>
        {label}
      </span>
      <ul aria-labelledby={id}>
        {tabs.map(([href, text, tab]) => (
          <li key={href}>{link(href, text, current === tab)}</li>
        ))}
      </ul>
    </li>
  );
  return (
    <>
      <a
        className="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Webhooks</span>
        <nav aria-label="Main">
          <ul className="tabs">
            {tabGroup('nav-dev', 'Developer', [
              ['#/webhooks', 'Webhooks', 'webhooks'],
              ['#/events', 'Events', 'events'],
            ])}
            {admin && tabGroup('nav-admin', 'Admin', [['#/approvals', 'Approvals', 'approvals']])}
          </ul>
        </nav>
        <div className="who">
          <span id="account-name" title={`account ${me.account_id}`}>
            {me.account_name || me.account_id}
          </span>
          <span className="muted">
            {' '}
            · {me.user} ({me.roles.join(', ')})
          </span>
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Notice notice={notice} onClose={clearNotice} />
        {page}
      </main>
    </>
  );
}
