/** Escapes text for HTML. */
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The demo page: sign in, who you are, which node answered each request, your
 * sessions across the cluster, and the cluster's members and recent events.
 * Plain HTML + fetch, no external resources. `nonce` allows its inline script
 * and style under the page's Content-Security-Policy.
 */
export function renderPage(node: string, nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nest-cluster-cache demo · ${escape(node)}</title>
<style nonce="${nonce}">
  :root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f6f7f9; --a:#2563eb; --b:#c2410c; --ok:#15803d; --bad:#b42318; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
  header { background:#fff; border-bottom:1px solid var(--line); padding:14px 24px; display:flex; align-items:baseline; gap:16px; flex-wrap:wrap; }
  header h1 { font-size:18px; margin:0; }
  header .muted { font-size:13px; }
  main { max-width:980px; margin:0 auto; padding:20px 24px; display:grid; grid-template-columns:1fr 1fr; gap:16px; }
  section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 18px; }
  section.wide { grid-column:1 / -1; }
  h2 { font-size:14px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); margin:0 0 10px; }
  .muted { color:var(--muted); }
  .node { display:inline-block; padding:1px 8px; border-radius:999px; font:600 13px ui-monospace, SFMono-Regular, Menlo, monospace; color:#fff; background:#475467; }
  .node.n0 { background:var(--a); } .node.n1 { background:var(--b); } .node.n2 { background:#7c3aed; } .node.n3 { background:#0f766e; }
  .big { font-size:22px; font-weight:600; margin:2px 0 6px; }
  form { display:grid; gap:8px; max-width:320px; }
  input { font:inherit; padding:7px 10px; border:1px solid var(--line); border-radius:6px; }
  button { font:inherit; padding:7px 12px; border:1px solid var(--line); border-radius:6px; background:#fff; cursor:pointer; }
  button.primary { background:var(--fg); color:#fff; border-color:var(--fg); }
  button.danger { color:var(--bad); border-color:#f3c1bd; }
  .row { display:flex; gap:8px; flex-wrap:wrap; align-items:center; margin-top:10px; }
  table { width:100%; border-collapse:collapse; font-size:13px; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
  th { color:var(--muted); font-weight:500; }
  code { font:12px ui-monospace, SFMono-Regular, Menlo, monospace; }
  #history { display:flex; gap:4px; flex-wrap:wrap; min-height:24px; }
  .status-ok { color:var(--ok); font-weight:600; } .status-bad { color:var(--bad); font-weight:600; }
  #error { color:var(--bad); min-height:1.2em; margin:6px 0 0; }
  ul.events { list-style:none; padding:0; margin:0; font-size:13px; max-height:190px; overflow:auto; }
  ul.events li { padding:3px 0; border-bottom:1px dashed var(--line); }
  h2.spaced { margin-top:14px; }
  [hidden] { display:none !important; }
  @media (max-width: 760px) { main { grid-template-columns:1fr; } }
</style>
</head>
<body>
<header>
  <h1>nest-cluster-cache demo</h1>
  <span class="muted">this page was served by <span class="node" data-node="${escape(node)}">${escape(node)}</span></span>
  <span class="muted">last request served by <span id="served-by" class="node">…</span></span>
</header>
<main>
  <section id="signed-out" hidden>
    <h2>Sign in</h2>
    <form id="sign-in">
      <input name="username" placeholder="username" autocomplete="username" required>
      <input name="password" type="password" placeholder="password" autocomplete="current-password" required>
      <button class="primary" type="submit">Sign in</button>
    </form>
    <p class="muted">Demo users: <code>ada</code> / <code>analytical-engine</code>, <code>grace</code> / <code>cobol-1959</code>.</p>
  </section>
  <section id="signed-in" hidden>
    <h2>You</h2>
    <div class="big" id="who"></div>
    <div class="muted">session <code id="handle"></code>, created on <span id="created-on"></span>, expires <span id="expires"></span></div>
    <div class="row">
      <button id="sign-out">Sign out</button>
      <button id="sign-out-everywhere" class="danger">Sign out everywhere</button>
    </div>
  </section>
  <section>
    <h2>Requests</h2>
    <div>Each refresh asks the server again; behind the load balancer the answers alternate between nodes.</div>
    <div class="row"><button id="refresh">Refresh</button><label class="muted"><input type="checkbox" id="auto" checked> every 2 s</label></div>
    <div class="row" id="history"></div>
    <p id="error"></p>
  </section>
  <section class="wide" id="sessions-box" hidden>
    <h2>Your sessions on the cluster</h2>
    <table><thead><tr><th>session</th><th>device</th><th>created on</th><th>created</th><th>expires</th></tr></thead><tbody id="sessions"></tbody></table>
  </section>
  <section class="wide">
    <h2>Cluster <span class="muted" id="cluster-node"></span></h2>
    <table><thead><tr><th>node</th><th>cluster address</th><th>started</th><th>role</th></tr></thead><tbody id="members"></tbody></table>
    <div class="row muted" id="cluster-status"></div>
    <h2 class="spaced">Recent events seen by <span id="events-node"></span></h2>
    <ul class="events" id="events"></ul>
  </section>
</main>
<script nonce="${nonce}">
(function () {
  'use strict';
  // A node keeps its colour on every page: the colour comes from its name.
  function nodeClass(name) {
    var sum = 0;
    for (var i = 0; i < name.length; i++) sum += name.charCodeAt(i);
    return 'node n' + (sum % 4);
  }
  function $(id) { return document.getElementById(id); }
  function time(ms) { return new Date(ms).toLocaleTimeString(); }
  function text(el, value) { el.textContent = value; return el; }
  function chip(name) { var s = document.createElement('span'); s.className = nodeClass(name); s.textContent = name; return s; }
  function cell(row, content) { var td = row.insertCell(); if (typeof content === 'string') td.textContent = content; else td.appendChild(content); return td; }

  document.querySelectorAll('[data-node]').forEach(function (el) { el.className = nodeClass(el.getAttribute('data-node')); });

  function served(response) {
    var node = response.headers.get('x-served-by');
    if (!node) return;
    var el = $('served-by'); el.className = nodeClass(node); el.textContent = node;
    var history = $('history');
    history.insertBefore(chip(node), history.firstChild);
    while (history.children.length > 16) history.removeChild(history.lastChild);
  }

  async function call(method, path, body) {
    var options = { method: method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body) { options.headers['content-type'] = 'application/json'; options.body = JSON.stringify(body); }
    var response = await fetch(path, options);
    served(response);
    var data = null;
    try { data = await response.json(); } catch (e) { /* empty body */ }
    return { status: response.status, data: data };
  }

  function showSignedIn(me) {
    $('signed-out').hidden = true; $('signed-in').hidden = false; $('sessions-box').hidden = false;
    text($('who'), 'Signed in as ' + me.user.name + ' (' + me.user.id + ')');
    text($('handle'), me.session.handle.slice(0, 10) + '…');
    var on = $('created-on'); on.textContent = ''; on.appendChild(chip(me.session.node));
    text($('expires'), time(me.session.expiresAt));
  }
  function showSignedOut() {
    $('signed-out').hidden = false; $('signed-in').hidden = true; $('sessions-box').hidden = true;
    $('sessions').textContent = '';
  }

  async function refresh() {
    try {
      var me = await call('GET', '/me');
      if (me.status === 200) {
        showSignedIn(me.data);
        var list = await call('GET', '/sessions');
        if (list.status === 200) renderSessions(list.data.sessions);
      } else {
        showSignedOut();
      }
      var cluster = await call('GET', '/cluster');
      if (cluster.status === 200) renderCluster(cluster.data);
      else if (cluster.status === 403) renderClusterRefused(cluster.data && cluster.data.message);
      text($('error'), '');
    } catch (e) {
      text($('error'), 'request failed: ' + e.message);
    }
  }

  // "Chrome 156 on Linux" from a User-Agent; the whole string is the cell's tooltip.
  function device(ua) {
    var browsers = [['Edg', 'Edge'], ['OPR', 'Opera'], ['Firefox', 'Firefox'], ['HeadlessChrome', 'HeadlessChrome'], ['Chrome', 'Chrome'], ['Version', 'Safari']];
    var name = ua.split(' ')[0];
    for (var i = 0; i < browsers.length; i++) {
      var at = ua.indexOf(browsers[i][0] + '/');
      if (at !== -1) { name = browsers[i][1] + ' ' + ua.slice(at + browsers[i][0].length + 1).split(/[ .]/)[0]; break; }
    }
    var os = ['Windows', 'Android', 'iPhone', 'iPad', 'Mac OS X', 'Linux'].filter(function (o) { return ua.indexOf(o) !== -1; })[0];
    return os ? name + ' on ' + os.replace('Mac OS X', 'macOS') : name;
  }

  function renderSessions(sessions) {
    var body = $('sessions'); body.textContent = '';
    sessions.forEach(function (s) {
      var row = body.insertRow();
      cell(row, s.handle.slice(0, 10) + '…' + (s.current ? '  (this browser)' : ''));
      cell(row, device(s.userAgent)).title = s.userAgent;
      cell(row, chip(s.node));
      cell(row, time(s.createdAt));
      cell(row, time(s.expiresAt));
    });
  }

  function renderCluster(c) {
    text($('cluster-node'), '(as ' + c.self.name + ' sees it)');
    text($('events-node'), c.self.name);
    var body = $('members'); body.textContent = '';
    [c.self].concat(c.peers).forEach(function (m, i) {
      var row = body.insertRow();
      cell(row, chip(m.name)); cell(row, m.address); cell(row, time(m.startedAt)); cell(row, i === 0 ? 'this node' : 'peer');
    });
    var status = $('cluster-status'); status.textContent = '';
    var ready = document.createElement('span');
    ready.className = c.ready ? 'status-ok' : 'status-bad';
    ready.textContent = c.ready ? 'ready' : 'joining';
    status.appendChild(ready);
    var entries = Object.keys(c.stats.entries).map(function (t) { return 'table ' + t + ': ' + c.stats.entries[t] + ' entries'; }).join(', ');
    status.appendChild(document.createTextNode(' · ' + c.peers.length + ' peer(s) · ' + entries));
    var events = $('events'); events.textContent = '';
    c.events.slice(0, 20).forEach(function (e) {
      var li = document.createElement('li');
      var detail = e.type === 'nodedown' ? ' (' + e.reason + ')' : e.type === 'joined' ? (e.from ? ' from ' + e.from : ' (started the cluster)') : '';
      li.textContent = time(e.at) + '  ' + e.type + '  ' + e.node + detail;
      events.appendChild(li);
    });
    if (c.events.length === 0) events.appendChild(text(document.createElement('li'), 'no events yet'));
  }

  // /cluster is for the operator: loopback clients or DEMO_ADMIN_TOKEN (see docs/demo.md).
  function renderClusterRefused(message) {
    $('members').textContent = '';
    text($('cluster-status'), message || 'this node does not show its cluster to this client');
    text($('events'), '');
  }

  $('sign-in').addEventListener('submit', async function (event) {
    event.preventDefault();
    var form = event.target;
    var result = await call('POST', '/session', { username: form.username.value, password: form.password.value });
    if (result.status !== 200) { text($('error'), (result.data && result.data.message) || 'sign-in failed'); return; }
    form.password.value = '';
    await refresh();
  });
  $('sign-out').addEventListener('click', async function () { await call('DELETE', '/session'); await refresh(); });
  $('sign-out-everywhere').addEventListener('click', async function () { await call('DELETE', '/sessions'); await refresh(); });
  $('refresh').addEventListener('click', refresh);
  setInterval(function () { if ($('auto').checked && !document.hidden) refresh(); }, 2000);
  refresh();
})();
</script>
</body>
</html>
`;
}
