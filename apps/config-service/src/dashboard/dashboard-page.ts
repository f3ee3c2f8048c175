/**
 * The admin dashboard: one self-contained page that drives the same public API as any client
 * (bearer token in session storage, problem documents shown field by field). Served at `/`.
 */
export const DASHBOARD_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Webhooks</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1c2330; background: #f6f7f9; }
  body { margin: 0; }
  header { background: #1c2330; color: #fff; padding: 12px 24px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; flex: 1; }
  main { max-width: 1100px; margin: 24px auto; padding: 0 24px; }
  section { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 16px 20px; margin-bottom: 20px; }
  h2 { font-size: 16px; margin: 0 0 12px; }
  table { width: 100%; border-collapse: collapse; font-size: 14px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eef0f3; vertical-align: top; }
  label { display: block; font-size: 13px; margin: 8px 0 2px; color: #4a5568; }
  input, select { font: inherit; padding: 6px 8px; border: 1px solid #c5cbd3; border-radius: 4px; width: 100%; box-sizing: border-box; }
  select[multiple] { height: 140px; }
  button { font: inherit; padding: 6px 12px; border-radius: 4px; border: 1px solid #2f5bd3; background: #2f5bd3; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #2f5bd3; }
  button.danger { background: #fff; color: #c53030; border-color: #c53030; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 16px; }
  .error { color: #c53030; font-size: 13px; }
  .notice { background: #ebf8ff; border: 1px solid #90cdf4; padding: 8px 12px; border-radius: 4px; margin-bottom: 12px; word-break: break-all; }
  .status { font-size: 12px; padding: 2px 6px; border-radius: 10px; background: #edf2f7; }
  .status.ACTIVE { background: #c6f6d5; } .status.ERROR { background: #fed7d7; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header><h1>Webhooks</h1><span id="who"></span><button id="signout" class="secondary" hidden>Sign out</button></header>
<main>
  <section id="signin">
    <h2>Sign in</h2>
    <label for="token">API token</label>
    <input id="token" type="password" autocomplete="off" placeholder="wht_...">
    <p><button id="signin-button">Sign in</button> <span id="signin-error" class="error"></span></p>
  </section>
  <div id="app" hidden>
    <div id="notice" class="notice" hidden></div>
    <section>
      <h2>Webhooks</h2>
      <table><thead><tr><th>Name</th><th>URL</th><th>Events</th><th>Rate</th><th>Status</th><th></th></tr></thead><tbody id="webhooks"></tbody></table>
    </section>
    <section>
      <h2 id="form-title">New webhook</h2>
      <form id="webhook-form" novalidate>
        <div class="grid">
          <div><label for="f-name">Name</label><input id="f-name" name="name"><div class="error" data-field="name"></div></div>
          <div><label for="f-url">URL</label><input id="f-url" name="url" placeholder="https://"><div class="error" data-field="url"></div></div>
          <div><label for="f-auth">Authentication</label><select id="f-auth" name="auth_type"><option value="API_KEY">API key</option><option value="OAUTH">OAuth client credentials</option></select></div>
          <div><label for="f-rate">Rate limit (requests per second, 1-100)</label><input id="f-rate" name="rate_limit" type="number" value="10"><div class="error" data-field="rate_limit"></div></div>
          <div data-auth="API_KEY"><label for="f-header">Header</label><input id="f-header" value="X-Api-Key"><div class="error" data-field="api_key.header"></div></div>
          <div data-auth="API_KEY"><label for="f-key">Key</label><input id="f-key" type="password" autocomplete="off"><div class="error" data-field="api_key.key"></div><div class="error" data-field="api_key"></div></div>
          <div data-auth="OAUTH" hidden><label for="f-client-url">Token URL</label><input id="f-client-url"><div class="error" data-field="oauth.client_url"></div><div class="error" data-field="oauth"></div></div>
          <div data-auth="OAUTH" hidden><label for="f-client-id">Client id</label><input id="f-client-id"><div class="error" data-field="oauth.client_id"></div></div>
          <div data-auth="OAUTH" hidden><label for="f-client-secret">Client secret</label><input id="f-client-secret" type="password" autocomplete="off"><div class="error" data-field="oauth.client_secret"></div></div>
          <div><label for="f-events">Event types</label><select id="f-events" multiple></select><div class="error" data-field="event_types"></div></div>
        </div>
        <p><button id="save" type="submit">Create</button> <button id="cancel-edit" type="button" class="secondary" hidden>Cancel</button> <span id="form-error" class="error"></span></p>
      </form>
    </section>
    <section>
      <h2>Recent events</h2>
      <table><thead><tr><th>Time</th><th>Type</th><th>Test</th><th>Undelivered</th><th></th></tr></thead><tbody id="events"></tbody></table>
    </section>
    <section id="deliveries-section" hidden>
      <h2 id="deliveries-title">Deliveries</h2>
      <table><thead><tr><th>Time</th><th>Event</th><th>Attempt</th><th>Result</th><th>Latency</th></tr></thead><tbody id="deliveries"></tbody></table>
    </section>
  </div>
</main>
<script>
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('token') || '';
let editing = null;

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: { authorization: 'Bearer ' + token, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) { const err = new Error((data && data.detail) || res.statusText); err.problem = data; err.status = res.status; throw err; }
  return data;
}
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
function notice(text) { $('notice').textContent = text; $('notice').hidden = !text; }

async function signIn() {
  $('signin-error').textContent = '';
  try {
    const catalogue = await api('GET', '/v2/event-types');
    $('f-events').innerHTML = catalogue.groups.map((g) =>
      '<optgroup label="' + esc(g.group) + '"><option value="' + esc(g.event_types[0].type.split('.')[0]) + '.*">All ' + esc(g.group) + ' events</option>' +
      g.event_types.map((t) => '<option value="' + esc(t.type) + '">' + esc(t.type) + '</option>').join('') + '</optgroup>').join('');
    sessionStorage.setItem('token', token);
    $('signin').hidden = true; $('app').hidden = false; $('signout').hidden = false;
    await refresh();
  } catch (e) { $('signin-error').textContent = e.status === 401 ? 'That token is not valid.' : e.message; }
}

async function refresh() {
  const { webhooks } = await api('GET', '/v2/webhooks');
  $('webhooks').innerHTML = webhooks.map((w) => '<tr data-id="' + w.id + '"><td>' + esc(w.name) + '</td><td>' + esc(w.url) + '</td><td>' + esc(w.event_types.join(', ')) +
    '</td><td>' + w.rate_limit + '/s</td><td><span class="status ' + esc(w.status) + '">' + esc(w.status) + '</span>' + (w.status_detail ? '<div class="error">' + esc(w.status_detail) + '</div>' : '') +
    '</td><td><button class="secondary" data-act="edit">Edit</button> <button class="secondary" data-act="test">Send test</button> <button class="secondary" data-act="deliveries">Deliveries</button> <button class="danger" data-act="delete">Delete</button></td></tr>').join('') ||
    '<tr><td colspan="6">No webhooks yet.</td></tr>';
  $('webhooks').dataset.items = JSON.stringify(webhooks);
  const { events } = await api('GET', '/v2/events?limit=20');
  $('events').innerHTML = events.map((e) => '<tr data-id="' + e.id + '"><td>' + esc(e.created_at) + '</td><td>' + esc(e.type) + '</td><td>' + (e.is_test ? 'yes' : '') + '</td><td>' + e.undelivered_webhooks +
    '</td><td>' + (e.undelivered_webhooks ? '<button class="secondary" data-act="redeliver">Redeliver</button>' : '') + '</td></tr>').join('') || '<tr><td colspan="5">No events yet.</td></tr>';
}

function formBody() {
  const auth = $('f-auth').value;
  const rate = $('f-rate').value.trim();
  const body = { name: $('f-name').value, url: $('f-url').value, auth_type: auth, event_types: [...$('f-events').selectedOptions].map((o) => o.value), rate_limit: rate === '' ? undefined : Number(rate) };
  if (auth === 'API_KEY') { if (!editing || $('f-key').value) body.api_key = { header: $('f-header').value, key: $('f-key').value }; }
  else if (!editing || $('f-client-secret').value) body.oauth = { client_url: $('f-client-url').value, client_id: $('f-client-id').value, client_secret: $('f-client-secret').value };
  return body;
}

function showProblem(e) {
  document.querySelectorAll('[data-field]').forEach((el) => (el.textContent = ''));
  const errors = (e.problem && e.problem.meta && e.problem.meta.errors) || [];
  for (const fe of errors) { const el = document.querySelector('[data-field="' + fe.field + '"]'); if (el) el.textContent = fe.message; }
  $('form-error').textContent = e.message;
}

function resetForm() {
  editing = null; $('webhook-form').reset(); $('f-header').value = 'X-Api-Key'; $('f-rate').value = '10';
  $('form-title').textContent = 'New webhook'; $('save').textContent = 'Create'; $('cancel-edit').hidden = true; switchAuth();
  document.querySelectorAll('[data-field]').forEach((el) => (el.textContent = '')); $('form-error').textContent = '';
}
function switchAuth() { document.querySelectorAll('[data-auth]').forEach((el) => (el.hidden = el.dataset.auth !== $('f-auth').value)); }

$('f-auth').addEventListener('change', switchAuth);
$('signin-button').addEventListener('click', () => { token = $('token').value.trim(); signIn(); });
$('signout').addEventListener('click', () => { sessionStorage.removeItem('token'); location.reload(); });
$('cancel-edit').addEventListener('click', resetForm);
$('webhook-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const body = formBody();
    const w = editing ? await api('PATCH', '/v2/webhooks/' + editing, body) : await api('POST', '/v2/webhooks', body);
    resetForm();
    notice(w.pending_approval_id ? 'The change awaits approval (request ' + w.pending_approval_id + ').' : w.signing_secret ? 'Webhook created. Signing secret, shown only now: ' + w.signing_secret : 'Webhook saved.');
    await refresh();
  } catch (e) { showProblem(e); }
});
$('webhooks').addEventListener('click', async (ev) => {
  const act = ev.target.dataset && ev.target.dataset.act; if (!act) return;
  const id = ev.target.closest('tr').dataset.id;
  const w = JSON.parse($('webhooks').dataset.items).find((x) => x.id === id);
  try {
    if (act === 'delete') { if (!confirm('Delete ' + w.name + '?')) return; await api('DELETE', '/v2/webhooks/' + id); notice('Deleted ' + w.name + '.'); }
    if (act === 'test') { const r = await api('POST', '/v2/webhooks/' + id + '/test', { event_type: (w.event_types.find((t) => !t.endsWith('*')) || 'identity.approved') }); notice('Test event ' + r.event_id + ' sent to ' + w.name + '.'); }
    if (act === 'edit') {
      editing = id; $('form-title').textContent = 'Edit ' + w.name; $('save').textContent = 'Save'; $('cancel-edit').hidden = false;
      $('f-name').value = w.name; $('f-url').value = w.url; $('f-auth').value = w.auth_type; $('f-rate').value = w.rate_limit; switchAuth();
      if (w.api_key) $('f-header').value = w.api_key.header;
      if (w.oauth) { $('f-client-url').value = w.oauth.client_url; $('f-client-id').value = w.oauth.client_id; }
      [...$('f-events').options].forEach((o) => (o.selected = w.event_types.includes(o.value)));
      return;
    }
    if (act === 'deliveries') {
      const { deliveries } = await api('GET', '/v2/webhooks/' + id + '/deliveries?limit=50');
      $('deliveries-title').textContent = 'Deliveries to ' + w.name; $('deliveries-section').hidden = false;
      $('deliveries').innerHTML = deliveries.map((d) => '<tr><td>' + esc(d.created_at) + '</td><td>' + esc(d.event_type) + '</td><td>' + d.attempt + '</td><td>' +
        (d.success ? 'HTTP ' + d.status_code : '<span class="error">' + esc(d.error || 'HTTP ' + d.status_code) + '</span>') + '</td><td>' + d.latency_ms + ' ms</td></tr>').join('') || '<tr><td colspan="5">No attempts yet.</td></tr>';
      return;
    }
    await refresh();
  } catch (e) { notice(e.message); }
});
$('events').addEventListener('click', async (ev) => {
  if (!(ev.target.dataset && ev.target.dataset.act === 'redeliver')) return;
  const id = ev.target.closest('tr').dataset.id;
  try { const r = await api('POST', '/v2/events/' + id + '/redeliver', {}); notice('Redelivering to ' + r.webhook_ids.length + ' webhook(s).'); await refresh(); } catch (e) { notice(e.message); }
});
if (token) signIn();
</script>
</body>
</html>
`;
