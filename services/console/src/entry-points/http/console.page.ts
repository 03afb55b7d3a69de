/**
 * The console's one page: plain HTML, CSS and script, no build step. It reads the JSON API of the
 * same origin (the browser re-sends the basic-auth credential) and builds every element with
 * textContent, never innerHTML, so nothing from the ledger can become markup.
 */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ceb179 console</title>
<style>
  body { font: 14px/1.4 system-ui, "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 20px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  h2 { font-size: 15px; margin: 0 0 8px; }
  .counts { display: flex; gap: 10px; flex-wrap: wrap; }
  .count { border: 1px solid #d8dce3; border-radius: 6px; padding: 6px 12px; min-width: 90px; }
  .count b { display: block; font-size: 20px; }
  .cards { display: flex; gap: 10px; flex-wrap: wrap; }
  .card { border: 1px solid #d8dce3; border-left: 5px solid #2e8540; border-radius: 6px; padding: 8px 12px; min-width: 260px; }
  .card.bad { border-left-color: #c62828; } .card.silent { min-width: 0; } .card.warn { border-left-color: #e6a100; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef2; white-space: nowrap; }
  td.wrap { white-space: normal; min-width: 200px; }
  tbody tr.row { cursor: pointer; } tbody tr.row:hover { background: #eef3fb; }
  .status { padding: 1px 6px; border-radius: 4px; background: #e3e7ee; }
  .status.uploaded { background: #d7f0dc; } .status.data_fault, .status.config_fault, .status.upload_rejected { background: #fbd9d9; }
  .late { color: #c62828; font-weight: 600; } .inside { color: #2e8540; }
  .mono { font-family: ui-monospace, monospace; font-size: 12px; }
  button { padding: 4px 12px; } .muted { color: #6b7280; }
  nav a { margin-right: 10px; cursor: pointer; color: #1f5fbf; } nav a.on { font-weight: 700; text-decoration: underline; }
</style>
</head>
<body>
<header><h1>ceb179 console</h1><span id="now" class="muted"></span><span id="problem"></span></header>
<main>
  <section><h2>Requests by stage (last 24 h)</h2><div class="counts" id="counts"></div></section>
  <section><h2>Signers (card PCs)</h2><div class="cards" id="signers"></div></section>
  <section>
    <h2>Requests</h2>
    <nav id="filters"><a data-kind="all" class="on">all</a><a data-kind="in-flight">in flight</a><a data-kind="late">late</a><a data-kind="failed">failed</a></nav>
    <table><thead><tr><th>sessionID</th><th>order</th><th>status</th><th>received</th><th>customs</th><th>deadline</th><th>reason</th></tr></thead>
    <tbody id="requests"></tbody></table>
  </section>
  <section id="detail" hidden><h2>Timeline of <span id="detail-id" class="mono"></span></h2><div id="timeline"></div></section>
</main>
<script>
"use strict";
let kind = 'all';
let selected = null;
const el = (tag, props, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'text') node.textContent = value; else if (key === 'cls') node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
};
const secs = (ms) => (Math.abs(ms) / 1000).toFixed(1) + ' s';
function deadlineText(d) {
  if (d.verdict === 'open') return secs(Date.parse(d.deadlineAt) - Date.now()) + ' left';
  if (d.verdict === 'inside') return 'uploaded ' + secs(d.marginMs) + ' inside';
  if (d.verdict === 'late') return 'LATE by ' + secs(d.marginMs);
  return d.settledAt ? 'missed (no upload)' : 'MISSED, ' + secs(Date.parse(d.deadlineAt) - Date.now()) + ' past';
}
function deadlineCell(d) {
  const cell = el('td', { cls: d.verdict === 'inside' ? 'inside' : d.verdict === 'open' ? 'countdown' : 'late', text: deadlineText(d) });
  if (d.verdict === 'open' || (d.verdict === 'missed' && !d.settledAt)) { cell.classList.add('live'); cell.dataset.deadline = JSON.stringify(d); }
  return cell;
}
async function api(path, init) {
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || ('HTTP ' + response.status));
  return body;
}
async function loadOverview() {
  const o = await api('/api/overview');
  document.getElementById('now').textContent = 'as of ' + o.now;
  const counts = document.getElementById('counts');
  counts.replaceChildren(...o.counts.map((c) => el('div', { cls: 'count', 'data-status': c.status }, el('b', { text: String(c.count) }), el('span', { text: c.status + (c.late ? ' (' + c.late + ' late)' : '') }))));
  const cards = document.getElementById('signers');
  if (o.signersProblem) { cards.replaceChildren(el('span', { cls: 'late', text: o.signersProblem })); return; }
  if (o.signers.length === 0) { cards.replaceChildren(el('span', { cls: 'muted', text: 'no signer has reported' })); return; }
  // A silent signer gets a small card: its last word is stale, only the silence matters.
  cards.replaceChildren(...o.signers.map((s) => s.silent
    ? el('div', { cls: 'card bad silent', 'data-signer': s.signerId }, el('b', { text: s.signerId }), el('div', { cls: 'late', text: 'SILENT since ' + s.lastSeenAt }))
    : el('div', { cls: 'card ' + (s.state === 'ready' ? (s.daysLeft !== null && s.daysLeft <= 30 ? 'warn' : '') : 'bad'), 'data-signer': s.signerId },
    el('b', { text: s.signerId }), el('div', { text: 'state ' + s.state + (s.reason ? ': ' + s.reason : '') }),
    el('div', { cls: 'mono', text: 'certNo ' + (s.certNo || '-') + '  ' + (s.algorithm || '') }),
    el('div', { text: 'expires ' + (s.notAfter || '-') + (s.daysLeft === null ? '' : ' (' + s.daysLeft + ' days left)') }),
    el('div', { text: 'last heartbeat ' + s.lastSeenAt }), el('div', { cls: 'muted', text: 'ebpCodes ' + (s.ebpCodes.join(',') || 'all') }))));
}
async function loadRequests() {
  const rows = await api('/api/requests?kind=' + encodeURIComponent(kind) + '&limit=100');
  const body = document.getElementById('requests');
  body.replaceChildren(...rows.map((t) => {
    const tr = el('tr', { cls: 'row', 'data-session': t.sessionID },
      el('td', { cls: 'mono', text: t.sessionID }), el('td', { text: t.orderNo }),
      el('td', {}, el('span', { cls: 'status ' + t.status, text: t.status })), el('td', { cls: 'mono', text: t.receivedAt }),
      el('td', { text: t.customsCode ? t.customsCode + (t.customsMessage ? ' ' + t.customsMessage : '') : '' }),
      deadlineCell(t.deadline), el('td', { cls: 'wrap', text: t.reason || '' }));
    tr.addEventListener('click', () => { selected = t.sessionID; void loadDetail(); });
    return tr;
  }));
  if (rows.length === 0) body.replaceChildren(el('tr', {}, el('td', { cls: 'muted', text: 'none' })));
}
async function loadDetail() {
  if (!selected) return;
  const [t] = await api('/api/requests/' + encodeURIComponent(selected));
  document.getElementById('detail').hidden = false;
  document.getElementById('detail-id').textContent = t.sessionID;
  const stages = el('table', { id: 'stages' }, el('thead', {}, el('tr', {}, el('th', { text: 'stage' }), el('th', { text: 'at' }), el('th', { text: 'since the call' }))),
    el('tbody', {}, ...t.stages.map((s) => el('tr', { 'data-stage': s.stage }, el('td', { text: s.stage }), el('td', { cls: 'mono', text: s.at }), el('td', { text: '+' + s.sinceReceivedMs + ' ms' })))));
  const attempts = el('table', { id: 'attempts' }, el('thead', {}, el('tr', {}, ...['attempt', 'at', 'HTTP', 'customs code', 'customs message', 'outcome', 'latency', 'error'].map((h) => el('th', { text: h })))),
    el('tbody', {}, ...t.attempts.map((a, i) => el('tr', { 'data-attempt': String(i + 1) }, el('td', { text: String(i + 1) }), el('td', { cls: 'mono', text: a.attemptedAt }),
      el('td', { text: a.httpStatus === null ? '-' : String(a.httpStatus) }), el('td', { text: a.customsCode || '-' }), el('td', { text: a.customsMessage || '' }),
      el('td', { text: a.outcome }), el('td', { text: a.latencyMs + ' ms' }), el('td', { text: a.error || '' })))));
  const button = el('button', { id: 'resend', text: 'Re-send the stored document' });
  if (!t.resend.allowed) button.disabled = true;
  button.addEventListener('click', async () => {
    if (!confirm('Upload the stored document of ' + t.sessionID + ' to customs again?')) return;
    button.disabled = true;
    const note = document.getElementById('resend-note');
    try { await api('/api/requests/' + encodeURIComponent(t.sessionID) + '/resend', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); note.textContent = 're-send queued for the reporter'; }
    catch (error) { note.textContent = 're-send refused: ' + error.message; }
    setTimeout(refresh, 500);
  });
  document.getElementById('timeline').replaceChildren(
    el('div', {}, el('span', { text: 'order ' + t.orderNo + '  ebpCode ' + (t.ebpCode || '-') + '  status ' }), el('span', { id: 'detail-status', cls: 'status ' + t.status, text: t.status }),
      el('span', { text: t.customsCode ? '  customs ' + t.customsCode + ' ' + (t.customsMessage || '') : '' })),
    el('div', { text: t.reason ? 'reason: ' + t.reason : '' }),
    el('div', {}, el('span', { text: 'deadline ' + t.deadline.deadlineAt + ': ' }), (() => { const c = deadlineCell(t.deadline); const s = el('span', { id: 'detail-deadline', cls: c.className, text: c.textContent }); if (c.dataset.deadline) s.dataset.deadline = c.dataset.deadline; return s; })()),
    el('div', { cls: 'mono', text: 'guid ' + (t.guid || '-') + '  serviceTime ' + (t.serviceTime || '-') + '  certNo ' + (t.certNo || '-') + '  signer ' + (t.signerId || '-') }),
    el('h2', { text: 'Stages' }), stages, el('h2', { text: 'Upload attempts (' + t.attempts.length + ')' }), attempts,
    el('p', {}, button, el('span', { id: 'resend-note', cls: 'muted', text: t.resend.allowed ? '' : ' ' + t.resend.refusal })));
}
async function refresh() {
  try { await Promise.all([loadOverview(), loadRequests(), loadDetail()]); document.getElementById('problem').textContent = ''; }
  catch (error) { document.getElementById('problem').textContent = 'could not load: ' + error.message; }
}
document.getElementById('filters').addEventListener('click', (event) => {
  const a = event.target.closest('a'); if (!a) return;
  kind = a.dataset.kind; for (const x of document.querySelectorAll('#filters a')) x.classList.toggle('on', x === a); void loadRequests();
});
setInterval(() => { for (const cell of document.querySelectorAll('.live')) cell.textContent = deadlineText(JSON.parse(cell.dataset.deadline)); }, 250);
setInterval(refresh, 5000);
void refresh();
</script>
</body>
</html>
`;
