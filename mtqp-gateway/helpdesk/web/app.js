// mtrk helpdesk page: plain JavaScript over the /api/v1 JSON API (see API.md). Everything is
// rendered with textContent, never innerHTML, so log data can never become markup.
'use strict';

const $ = (sel) => document.querySelector(sel);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
const SEARCH_FIELDS = ['sender', 'recipient', 'message_id', 'envid', 'queue_id', 'status', 'from',
  'to', 'match'];
let session = null;
let nextCursor = '';
let lastQuery = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function showError(message) {
  const box = $('#error');
  box.textContent = message || '';
  box.hidden = !message;
}

function show(id) {
  for (const s of document.querySelectorAll('main > section')) s.hidden = (s.id !== id);
}

async function api(path, options) {
  const opts = Object.assign({ credentials: 'same-origin', headers: {} }, options || {});
  if (opts.method === 'POST' && session && session.csrf_token) {
    opts.headers['X-CSRF-Token'] = session.csrf_token;
  }
  const res = await fetch(path, opts);
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = new Error(body && body.error ? body.error.message : 'HTTP ' + res.status);
    err.status = res.status;
    throw err;
  }
  return body;
}

// Times: shown in the user's zone with the zone named; the API gets and gives UTC.
function localTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short' });
}
function timeCell(iso) {
  return el('td', { title: iso ? iso + ' (UTC)' : '' }, localTime(iso));
}
function stateBadge(state) { return el('span', { class: 'state ' + state }, state || 'unknown'); }

function localInputToUtc(value) {
  if (!value) return '';
  const d = new Date(value);  // datetime-local is read in the browser's zone
  if (isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
function utcToLocalInput(iso) {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:` +
    `${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function queryFromForm() {
  const form = $('#search-form');
  const q = new URLSearchParams();
  for (const f of SEARCH_FIELDS) {
    let v = form.elements[f].value.trim();
    if (f === 'from' || f === 'to') {
      const utc = localInputToUtc(v);
      if (utc === null) throw new Error(f + ': not a valid date and time');
      v = utc;
    }
    if (v && !(f === 'match' && v === 'exact')) q.set(f, v);
  }
  return q;
}

function fillForm(params) {
  const form = $('#search-form');
  for (const f of SEARCH_FIELDS) {
    if (!params.has(f)) continue;
    const v = params.get(f);
    form.elements[f].value = (f === 'from' || f === 'to') ? utcToLocalInput(v) : v;
  }
}

function recipientsCell(m) {
  const td = el('td');
  for (const r of m.recipients) {
    td.append(el('div', {}, stateBadge(r.state), ' ', el('span', { class: 'mono' }, r.recipient)));
  }
  return td;
}

function messageLink(key) { return '/message?key=' + encodeURIComponent(key); }

function renderResults(data, append) {
  const box = $('#results');
  if (!append) {
    box.textContent = '';
    const table = el('table', { id: 'results-table' },
      el('thead', {}, el('tr', {}, el('th', {}, 'First seen (' + zone + ')'), el('th', {}, 'Sender'),
        el('th', {}, 'Message-ID'), el('th', {}, 'Recipients'))), el('tbody'));
    box.append(el('p', { class: 'hint', id: 'result-count' }), table);
  }
  const tbody = box.querySelector('tbody');
  for (const m of data.messages) {
    const tr = el('tr', { class: 'clickable', 'data-key': m.message_key },
      timeCell(m.first_seen), el('td', { class: 'mono' }, m.sender || '<>'),
      el('td', { class: 'mono' }, m.message_id), recipientsCell(m));
    tr.addEventListener('click', () => { location.href = messageLink(m.message_key); });
    tbody.append(tr);
  }
  const n = tbody.children.length;
  $('#result-count').textContent = n === 0 ? 'No message matches.' :
    n + ' message' + (n === 1 ? '' : 's') + '. Click one to open its timeline.';
  nextCursor = data.next_cursor || '';
  $('#more').hidden = !nextCursor;
}

async function runSearch(q, append) {
  showError('');
  const params = new URLSearchParams(q);
  if (append && nextCursor) params.set('cursor', nextCursor);
  const data = await api('/api/v1/messages?' + params.toString());
  lastQuery = q;
  renderResults(data, append);
  $('#export-csv').href = '/api/v1/messages?' + q.toString() + '&format=csv';
  $('#export-json').href = '/api/v1/messages?' + q.toString() + '&format=json';
  $('#export-csv').hidden = $('#export-json').hidden = false;
}

function fact(dl, name, value) { dl.append(el('dt', {}, name), el('dd', { class: 'mono' }, value)); }

function renderMessage(m) {
  const dl = $('#message-facts');
  dl.textContent = '';
  fact(dl, 'Message-ID', m.message_id);
  fact(dl, 'Sender', m.sender || '<>');
  if (m.envid) fact(dl, 'ENVID', m.envid);
  dl.append(el('dt', {}, 'First seen'), el('dd', { title: m.first_seen + ' (UTC)' },
    localTime(m.first_seen) + ' (' + zone + ')'));
  const link = location.origin + messageLink(m.message_key);
  $('#share').href = link;
  $('#share').textContent = 'Shareable link';
  $('#share').title = link;
  const api = '/api/v1/messages/' + encodeURIComponent(m.message_key);
  $('#msg-csv').href = api + '?format=csv';
  $('#msg-json').href = api + '?format=json';

  const tbody = $('#recipients tbody');
  tbody.textContent = '';
  for (const r of m.recipients) {
    tbody.append(el('tr', { class: 'recipient-row', 'data-recipient': r.recipient },
      el('td', { class: 'mono' }, r.recipient,
        r.original_recipient ? el('div', { class: 'hint' }, 'was ' + r.original_recipient) : ''),
      el('td', {}, stateBadge(r.state)), el('td', { class: 'where-now' }, r.where_now)));
  }
  const hops = $('#hops');
  hops.textContent = '';
  for (const r of m.recipients) {
    const mine = m.hops.filter((h) => (h.final_recipient || h.original_recipient) === r.recipient);
    const t = el('tbody');
    for (const h of mine) {
      t.append(el('tr', { class: 'hop-row' }, timeCell(h.time),
        el('td', {}, h.reporting_mta || h.reporting_host, el('div', { class: 'hint' }, h.mta_instance)),
        el('td', { class: 'mono' }, h.queue_id), el('td', {}, stateBadge(h.action)),
        el('td', { class: 'mono' }, h.status), el('td', { class: 'mono' }, h.remote_mta || h.relay),
        el('td', {}, h.delay_s ? h.delay_s + ' s' : ''), el('td', { class: 'mono' }, h.diagnostic),
        el('td', { class: 'mono' }, h.next_queue_id)));
    }
    hops.append(el('h3', { class: 'mono' }, r.recipient),
      el('table', { class: 'hops' }, el('thead', {}, el('tr', {}, el('th', {}, 'Time'),
        el('th', {}, 'MTA'), el('th', {}, 'Queue id'), el('th', {}, 'Action'),
        el('th', {}, 'Status'), el('th', {}, 'Next hop'), el('th', {}, 'Delay'),
        el('th', {}, 'Remote reply / reason'), el('th', {}, 'Next queue id'))), t));
  }
}

function renderAudit(data, append) {
  const tbody = $('#audit-table tbody');
  if (!append) tbody.textContent = '';
  for (const a of data.records) {
    tbody.append(el('tr', {}, timeCell(a.at), el('td', {}, a.user), el('td', {}, a.role),
      el('td', {}, a.action), el('td', { class: 'mono' }, a.query), el('td', {}, a.result_count),
      el('td', {}, a.outcome), el('td', { class: 'mono' }, a.client)));
  }
  $('#audit-more').dataset.cursor = data.next_cursor || '';
  $('#audit-more').hidden = !data.next_cursor;
}

async function loadSession() {
  try {
    session = await api('/api/v1/session');
    $('#who').textContent = session.name + ' (' + session.role.replace('_', ' ') + ')';
    $('#logout').hidden = false;
    $('#nav-audit').hidden = session.role !== 'auditor';
    $('#opt-substring').hidden = session.role !== 'helpdesk';
  } catch (e) {
    session = null;
  }
}

async function route() {
  const params = new URLSearchParams(location.search);
  const path = location.pathname;
  if (path === '/track') { show('track'); return; }
  await loadSession();
  if (!session) { show('login'); return; }
  try {
    if (path === '/message') {
      show('message');
      renderMessage(await api('/api/v1/messages/' + encodeURIComponent(params.get('key') || '')));
    } else if (path === '/audit') {
      show('audit');
      renderAudit(await api('/api/v1/audit'), false);
    } else {
      show('search');
      fillForm(params);
      if ([...params.keys()].length > 0) await runSearch(queryFromForm(), false);
    }
  } catch (e) {
    showError(e.message);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const off = -new Date().getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
  const mm = String(Math.abs(off) % 60).padStart(2, '0');
  $('#zone-hint').textContent = `Times are entered and shown in ${zone} (UTC${sign}${hh}:${mm}); ` +
    'they are searched and stored in UTC.';

  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError('');
    const body = new URLSearchParams(new FormData(ev.target));
    try {
      await api('/api/v1/login', { method: 'POST', body,
        headers: { 'X-Requested-With': 'mtrk-helpdesk' } });
      await route();
    } catch (e) { showError(e.message); }
  });
  $('#logout').addEventListener('click', async () => {
    try { await api('/api/v1/logout', { method: 'POST' }); } catch (e) { /* signed out anyway */ }
    location.href = '/';
  });
  $('#search-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const q = queryFromForm();
      history.replaceState(null, '', '/?' + q.toString());  // the search itself is shareable
      await runSearch(q, false);
    } catch (e) { showError(e.message); }
  });
  $('#more').addEventListener('click', async () => {
    try { await runSearch(lastQuery, true); } catch (e) { showError(e.message); }
  });
  $('#audit-more').addEventListener('click', async () => {
    try {
      renderAudit(await api('/api/v1/audit?cursor=' +
        encodeURIComponent($('#audit-more').dataset.cursor)), true);
    } catch (e) { showError(e.message); }
  });
  $('#track-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError('');
    try {
      const r = await api('/api/v1/track', { method: 'POST',
        body: new URLSearchParams(new FormData(ev.target)) });
      $('#track-result').textContent = r.found ? 'Tracking information follows (' +
        r.mtqp_reply + ').' : 'No tracking information (' + r.mtqp_reply + ').';
      $('#track-body').textContent = r.body;
      $('#track-body').hidden = !r.found;
    } catch (e) { showError(e.message); }
  });
  route();
});
