// The cassink console: a few hash routes over the worker's own REST API (same origin, so
// the browser's basic-auth credentials and the user's role apply to every call).
//   #/                        connectors
//   #/connectors/{name}       one connector: status, tasks, offsets, counts, live charts, actions
//   #/new                     create a connector from JSON
//   #/connectors/{name}/edit  edit a connector's config
// Metrics come from GET /metrics/connectors[/{name}] (docs/metrics.md); while that answers
// 404 the numbers show as a dash.
'use strict';

const POLL_MS = 2000;
const DASH = '–';

// ---------------------------------------------------------------- DOM and formatting

/** An element: attrs are attributes, except `text`, `class` and on<event> handlers. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

const byTestId = (root, id) => root.querySelector(`[data-testid="${id}"]`);
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decFormat = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const fmtInt = (v) => (isNum(v) ? intFormat.format(v) : DASH);
const fmtDec = (v) => (isNum(v) ? decFormat.format(v) : DASH);
const fmtMs = (v) => (isNum(v) ? `${decFormat.format(v)} ms` : DASH);
const connectorHash = (name) => `#/connectors/${encodeURIComponent(name)}`;
const connectorPath = (name) => `/connectors/${encodeURIComponent(name)}`;

function stateBadge(state, testid) {
  const s = state || 'UNKNOWN';
  return el('span', { class: `state state-${s.toLowerCase()}`, 'data-testid': testid, text: s });
}

// ---------------------------------------------------------------- REST

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the REST API; a non-2xx answer throws with the message of its JSON error body. */
async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const message = data && typeof data.message === 'string' ? data.message : `HTTP ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return data;
}

/** The metrics JSON, or null while the endpoint (or the connector's flow) is not there. */
async function metricsOrNull(path) {
  try {
    return await api('GET', path);
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

// ---------------------------------------------------------------- messages and polling

const message = () => document.querySelector('[data-testid="message"]');

/** Shows a message under the header; `sticky` keeps it over the next route change. */
function showMessage(text, kind = 'ok', sticky = false) {
  const box = message();
  box.textContent = text;
  box.className = `message message-${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.dataset.kind = kind;
  box.dataset.sticky = sticky ? '1' : '';
  box.hidden = false;
}

function clearMessage() {
  const box = message();
  if (box.dataset.sticky) {
    box.dataset.sticky = '';
    return;
  }
  box.hidden = true;
  box.textContent = '';
}

/** The header's note of the last poll: its time, or why it failed; `undefined` clears it. */
function showUpdated(error) {
  const span = document.querySelector('[data-testid="updated"]');
  const at = new Date().toLocaleTimeString('en-GB');
  span.textContent = error === undefined ? '' : error ? `update failed: ${error}` : `updated ${at}`;
  span.classList.toggle('stale', Boolean(error));
}

let poller = null;

/** Runs `fn` now and every POLL_MS until the route changes; `poller.now()` runs it at once. */
function startPolling(fn) {
  stopPolling();
  const me = { timer: null };
  const tick = async () => {
    clearTimeout(me.timer);
    if (poller !== me) return;
    let error = null;
    try {
      await fn();
    } catch (e) {
      error = e.message;
    }
    // A poll that outlived its page wrote into the page's detached container: forget it.
    if (poller !== me) return;
    showUpdated(error);
    me.timer = setTimeout(tick, POLL_MS);
  };
  me.now = tick;
  poller = me;
  tick();
}

function stopPolling() {
  if (poller) clearTimeout(poller.timer);
  poller = null;
}

const pollNow = () => poller && poller.now();

// ---------------------------------------------------------------- charts (ui/chart.js)

function drawCharts(root, name, haveMetrics) {
  const empty = haveMetrics ? 'collecting…' : `no metrics (${DASH})`;
  Charts.draw(byTestId(root, 'chart-rate'), [
    { cls: 'read', points: Charts.points(name, 'readRate') },
    { cls: 'written', points: Charts.points(name, 'writtenRate') },
  ], empty);
  Charts.draw(byTestId(root, 'chart-lag'), [{ cls: 'lag', points: Charts.points(name, 'lag') }], empty);
}

// ---------------------------------------------------------------- page: connectors

/** A right-aligned (numeric) column header for `table`. */
const num = (label) => ({ label, num: true });
const LIST_HEADERS = ['Connector', 'Topics', 'State', num('Tasks running'), num('Read'), num('Written'),
  num('Read/s'), num('Written/s'), num('Lag')];

function renderList(main) {
  main.append(
    el('div', { class: 'title' },
      el('h1', { text: 'Connectors' }),
      el('a', { class: 'button', href: '#/new', 'data-testid': 'new-connector', text: 'New connector' })),
    table('connectors-table', LIST_HEADERS, 'connectors-body'));
  const tbody = byTestId(main, 'connectors-body');
  startPolling(async () => {
    const [connectors, metrics] = await Promise.all([
      api('GET', '/connectors?expand=status&expand=info'),
      metricsOrNull('/metrics/connectors'),
    ]);
    for (const [name, flow] of Object.entries(metrics || {})) Charts.record(name, flow);
    const names = Object.keys(connectors).sort();
    const rows = names.map((n) => listRow(n, connectors[n], metrics && metrics[n]));
    tbody.replaceChildren(...(rows.length ? rows : [emptyRow(LIST_HEADERS.length, 'No connectors yet.')]));
  });
}

function listRow(name, entry, flow) {
  const status = entry.status || {};
  const tasks = status.tasks || [];
  const running = tasks.filter((t) => t.state === 'RUNNING').length;
  const records = (flow && flow.records) || {};
  const rates = (flow && flow.rates) || {};
  const cell = (testid, text) => el('td', { class: 'num', 'data-testid': testid, text });
  return el('tr', { 'data-testid': 'connector-row', 'data-name': name },
    el('th', { scope: 'row' }, el('a', { href: connectorHash(name), 'data-testid': 'connector-link', text: name })),
    el('td', { 'data-testid': 'topics', text: topicsOf(entry.info) }),
    el('td', {}, stateBadge(status.connector && status.connector.state, 'state')),
    cell('tasks', `${running}/${tasks.length}`),
    cell('read', fmtInt(records.read)),
    cell('written', fmtInt(records.written)),
    cell('read-rate', fmtDec(rates.read_per_s)),
    cell('written-rate', fmtDec(rates.written_per_s)),
    cell('lag', fmtInt(flow ? Charts.totalLag(flow) : null)));
}

/** The topics a connector reads, from its config (`topics` or `topics.regex`). */
function topicsOf(info) {
  const config = (info && info.config) || {};
  if (config.topics) return config.topics.split(',').map((t) => t.trim()).filter(Boolean).join(', ');
  return config['topics.regex'] ? `/${config['topics.regex']}/` : DASH;
}

function emptyRow(span, text) {
  return el('tr', {}, el('td', { colspan: span, class: 'empty', text }));
}

// ---------------------------------------------------------------- page: one connector

const COUNTS = [
  ['read', 'read'], ['written', 'written'], ['skipped', 'skipped'], ['failed', 'failed'],
  ['filtered', 'filtered'], ['in flight', 'in_flight'], ['dead-lettered', 'dead_lettered'],
];

function renderConnector(main, name) {
  const check = (testid, label) => el('label', { class: 'check' },
    el('input', { type: 'checkbox', 'data-testid': testid }), ` ${label}`);
  const action = (testid, label, fn, cls) => el('button', { type: 'button', 'data-testid': testid, class: cls, onclick: fn, text: label });
  main.append(
    el('div', { class: 'title' },
      el('h1', {}, el('span', { class: 'muted', text: 'Connector ' }), el('span', { 'data-testid': 'connector-name', text: name })),
      el('a', { class: 'button', href: `${connectorHash(name)}/edit`, 'data-testid': 'edit-connector', text: 'Edit config' })),
    el('p', { class: 'summary' },
      'State ', el('span', { 'data-testid': 'connector-state-box' }, stateBadge(null, 'connector-state')),
      ' on worker ', el('code', { 'data-testid': 'connector-worker', text: DASH })),
    el('pre', { class: 'trace', 'data-testid': 'connector-trace', hidden: true }),
    el('section', { class: 'actions', 'aria-label': 'Actions' },
      action('action-pause', 'Pause', () => act('Pause', 'PUT', `${connectorPath(name)}/pause`)),
      action('action-resume', 'Resume', () => act('Resume', 'PUT', `${connectorPath(name)}/resume`)),
      action('action-stop', 'Stop', () => act('Stop', 'PUT', `${connectorPath(name)}/stop`)),
      el('span', { class: 'group' },
        action('action-restart', 'Restart', () => restart(main, name)),
        check('restart-include-tasks', 'include tasks'),
        check('restart-only-failed', 'only failed')),
      action('action-delete', 'Delete', () => remove(name), 'danger')),
    el('section', { class: 'cards' },
      el('div', { class: 'card' }, el('h2', { text: 'Records' }),
        el('dl', { class: 'counts', 'data-testid': 'counts' }, COUNTS.flatMap(([label, key]) => [
          el('dt', { text: label }), el('dd', { 'data-testid': `count-${key}`, text: DASH })]))),
      el('div', { class: 'card' }, el('h2', { text: 'Throughput' }),
        el('dl', { class: 'counts' },
          el('dt', { text: 'read/s' }), el('dd', { 'data-testid': 'rate-read', text: DASH }),
          el('dt', { text: 'written/s' }), el('dd', { 'data-testid': 'rate-written', text: DASH }),
          el('dt', { text: 'write latency avg' }), el('dd', { 'data-testid': 'latency-avg', text: DASH }),
          el('dt', { text: 'write latency max' }), el('dd', { 'data-testid': 'latency-max', text: DASH }),
          el('dt', { text: 'total lag' }), el('dd', { 'data-testid': 'lag-total', text: DASH })))),
    el('section', { class: 'charts' },
      Charts.figure('chart-rate', 'Records/s', [['read', 'read'], ['written', 'written']]),
      Charts.figure('chart-lag', 'Lag (records)', [['lag', 'lag']])),
    el('h2', { text: 'Tasks' }),
    table('tasks-table', ['Task', 'State', 'Worker', ''], 'tasks-body'),
    el('h2', { text: 'Partitions' }),
    table('partitions-table', ['Topic', num('Partition'), num('Task'), num('Committed offset'), num('End offset'), num('Lag')], 'partitions-body'),
  );
  startPolling(() => refreshConnector(main, name));
}

/** A data table: headers are labels or `num(label)`; rows go into the tbody `bodyTestid`. */
function table(testid, headers, bodyTestid) {
  const th = (h) => (typeof h === 'string'
    ? el('th', { scope: 'col', text: h })
    : el('th', { scope: 'col', class: h.num ? 'num' : undefined, text: h.label }));
  return el('table', { class: 'data', 'data-testid': testid },
    el('thead', {}, el('tr', {}, headers.map(th))),
    el('tbody', { 'data-testid': bodyTestid }));
}

async function refreshConnector(main, name) {
  const [status, offsets, flow] = await Promise.allSettled([
    api('GET', `${connectorPath(name)}/status`),
    api('GET', `${connectorPath(name)}/offsets`),
    metricsOrNull(`/metrics/connectors/${encodeURIComponent(name)}`),
  ]);
  if (status.status === 'rejected') {
    if (status.reason.status === 404) byTestId(main, 'connector-state-box').replaceChildren(stateBadge('NOT FOUND', 'connector-state'));
    throw status.reason;
  }
  const metrics = flow.status === 'fulfilled' ? flow.value : null;
  if (metrics) Charts.record(name, metrics);
  showStatus(main, name, status.value);
  showFlow(main, metrics);
  showPartitions(main, offsets.status === 'fulfilled' ? offsets.value : null, metrics);
  drawCharts(main, name, Boolean(metrics));
}

function showStatus(main, name, status) {
  const connector = status.connector || {};
  byTestId(main, 'connector-state-box').replaceChildren(stateBadge(connector.state, 'connector-state'));
  byTestId(main, 'connector-worker').textContent = connector.worker_id || DASH;
  const trace = byTestId(main, 'connector-trace');
  trace.textContent = connector.trace || '';
  trace.hidden = !connector.trace;
  const rows = (status.tasks || []).flatMap((t) => taskRows(name, t));
  byTestId(main, 'tasks-body').replaceChildren(...(rows.length ? rows : [emptyRow(4, 'No tasks.')]));
}

function taskRows(name, task) {
  const restartTask = () => act(`Restart of task ${task.id}`, 'POST', `${connectorPath(name)}/tasks/${task.id}/restart`);
  const row = el('tr', { 'data-testid': 'task-row', 'data-task': task.id },
    el('th', { scope: 'row', text: String(task.id) }),
    el('td', {}, stateBadge(task.state, 'task-state')),
    el('td', {}, el('code', { 'data-testid': 'task-worker', text: task.worker_id || DASH })),
    el('td', {}, el('button', { type: 'button', class: 'small', 'data-testid': 'task-restart', onclick: restartTask, text: `Restart task ${task.id}` })));
  if (!task.trace) return [row];
  const trace = el('tr', { class: 'trace-row' },
    el('td', { colspan: 4 }, el('pre', { class: 'trace', 'data-testid': 'task-trace', text: task.trace })));
  return [row, trace];
}

function showFlow(main, flow) {
  const records = (flow && flow.records) || {};
  const rates = (flow && flow.rates) || {};
  const latency = (flow && flow.write_latency_ms) || {};
  for (const [, key] of COUNTS) byTestId(main, `count-${key}`).textContent = fmtInt(records[key]);
  byTestId(main, 'rate-read').textContent = fmtDec(rates.read_per_s);
  byTestId(main, 'rate-written').textContent = fmtDec(rates.written_per_s);
  byTestId(main, 'latency-avg').textContent = fmtMs(latency.avg);
  byTestId(main, 'latency-max').textContent = fmtMs(latency.max);
  byTestId(main, 'lag-total').textContent = fmtInt(flow ? Charts.totalLag(flow) : null);
}

/** Partitions from the committed offsets (REST) joined with the metrics' end offsets and lag. */
function showPartitions(main, offsets, flow) {
  const parts = new Map();
  const entry = (topic, partition) => {
    const key = `${topic}\u0000${partition}`;
    if (!parts.has(key)) parts.set(key, { topic, partition });
    return parts.get(key);
  };
  for (const o of (offsets && offsets.offsets) || []) {
    const p = entry(o.partition.kafka_topic, Number(o.partition.kafka_partition));
    p.committed = o.offset ? o.offset.kafka_offset : null;
  }
  for (const m of (flow && flow.partitions) || []) {
    const p = entry(m.topic, m.partition);
    Object.assign(p, { task: m.task, end: m.end_offset, lag: m.lag });
    if (!isNum(p.committed)) p.committed = m.committed_offset;
  }
  const sorted = [...parts.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const rows = sorted.map((p) => el('tr', { 'data-testid': 'partition-row', 'data-topic': p.topic, 'data-partition': p.partition },
    el('th', { scope: 'row', text: p.topic }),
    el('td', { class: 'num', text: String(p.partition) }),
    el('td', { class: 'num', 'data-testid': 'partition-task', text: isNum(p.task) ? String(p.task) : DASH }),
    el('td', { class: 'num', 'data-testid': 'committed', text: fmtInt(p.committed) }),
    el('td', { class: 'num', 'data-testid': 'end', text: fmtInt(p.end) }),
    el('td', { class: 'num', 'data-testid': 'lag', text: fmtInt(p.lag) })));
  byTestId(main, 'partitions-body').replaceChildren(...(rows.length ? rows : [emptyRow(6, 'No committed offsets yet.')]));
}

// ---------------------------------------------------------------- actions

/** Runs one REST action with the page's buttons disabled; shows its outcome. */
async function act(label, method, path) {
  const buttons = [...document.querySelectorAll('main button')];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await api(method, path);
    showMessage(`${label}: requested.`, 'ok');
    return true;
  } catch (e) {
    showMessage(`${label} failed: ${e.message} (HTTP ${e.status || 'error'})`, 'error');
    return false;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    pollNow();
  }
}

function restart(main, name) {
  const includeTasks = byTestId(main, 'restart-include-tasks').checked;
  const onlyFailed = byTestId(main, 'restart-only-failed').checked;
  return act('Restart', 'POST', `${connectorPath(name)}/restart?includeTasks=${includeTasks}&onlyFailed=${onlyFailed}`);
}

async function remove(name) {
  if (!window.confirm(`Delete connector ${name}? Its config and status are removed; its tables are kept.`)) return;
  if (await act(`Delete of ${name}`, 'DELETE', connectorPath(name))) {
    Charts.forget(name);
    showMessage(`Connector ${name} deleted.`, 'ok', true);
    location.hash = '#/';
  }
}

// ---------------------------------------------------------------- pages: create and edit

const TEMPLATE = {
  name: 'my-sink',
  config: {
    'connector.class': 'com.datastax.oss.kafka.sink.CassandraSinkConnector',
    'tasks.max': '1',
    topics: 'my-topic',
    contactPoints: '127.0.0.1',
    port: '9042',
    'loadBalancing.localDc': 'datacenter1',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
    'topic.my-topic.my_keyspace.my_table.mapping': 'id=value.id, body=value.body',
  },
};

/** `name` undefined: create from {"name","config"}; else edit that connector's config. */
function renderEditor(main, name) {
  const creating = name === undefined;
  const text = el('textarea', {
    id: 'editor-json', 'data-testid': 'editor-json', rows: 22, spellcheck: 'false',
    'aria-describedby': 'editor-help',
  });
  const results = el('section', { class: 'validation', 'data-testid': 'validation', 'aria-live': 'polite' });
  const onValidate = () => runValidation(text, results, creating, name);
  const onSave = () => save(text, results, creating, name);
  main.append(
    el('div', { class: 'title' }, el('h1', { text: creating ? 'New connector' : `Edit ${name}` }),
      creating ? null : el('a', { class: 'button', href: connectorHash(name), text: 'Back' })),
    el('label', { for: 'editor-json', class: 'block', text: creating ? 'Connector JSON' : 'Connector config' }),
    el('p', { id: 'editor-help', class: 'muted', text: creating
      ? '{"name": ..., "config": {...}} as for POST /connectors.'
      : `The config object, as for PUT /connectors/${name}/config.` }),
    text,
    el('div', { class: 'actions' },
      el('button', { type: 'button', 'data-testid': 'action-validate', onclick: onValidate, text: 'Validate' }),
      el('button', { type: 'button', class: 'primary', 'data-testid': 'action-save', onclick: onSave, text: 'Save' })),
    results,
  );
  if (creating) text.value = JSON.stringify(TEMPLATE, null, 2);
  else loadConfig(text, name);
}

async function loadConfig(text, name) {
  try {
    const all = await api('GET', '/connectors?expand=info');
    const entry = all[name];
    if (!entry) throw new ApiError(404, `Connector ${name} not found`);
    text.value = JSON.stringify(entry.info.config, null, 2);
  } catch (e) {
    showMessage(`Could not load the config of ${name}: ${e.message}`, 'error');
  }
}

/** {name, config} from the textarea, or throws with what is wrong. */
function parseEditor(text, creating, name) {
  let doc;
  try {
    doc = JSON.parse(text.value);
  } catch (e) {
    throw new Error(`The JSON does not parse: ${e.message}`);
  }
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!creating) {
    if (!isObject(doc)) throw new Error('The config must be a JSON object of keys and values.');
    return { name, config: doc };
  }
  if (!isObject(doc) || typeof doc.name !== 'string' || !doc.name || !isObject(doc.config)) {
    throw new Error('Expected {"name": "<connector name>", "config": {...}}.');
  }
  return { name: doc.name, config: doc.config };
}

async function runValidation(text, results, creating, name) {
  try {
    const doc = parseEditor(text, creating, name);
    const cls = doc.config['connector.class'];
    if (!cls) {
      showValidation(results, [['connector.class', doc.config['connector.class'], ['Missing required configuration "connector.class"']]]);
      return false;
    }
    const body = { ...doc.config, name: doc.config.name || doc.name };
    const answer = await api('PUT', `/connector-plugins/${encodeURIComponent(cls)}/config/validate`, body);
    const errors = (answer.configs || [])
      .filter((c) => c.value && (c.value.errors || []).length)
      .map((c) => [c.value.name || c.definition.name, c.value.value, c.value.errors]);
    showValidation(results, errors, Object.keys(body).length);
    return errors.length === 0;
  } catch (e) {
    results.replaceChildren(el('p', { class: 'error', 'data-testid': 'validation-failed', role: 'alert', text: e.message }));
    return false;
  }
}

/** errors: [[key, value, [message]]], each shown beside its key. */
function showValidation(results, errors, keyCount) {
  if (!errors.length) {
    results.replaceChildren(el('p', { class: 'ok', 'data-testid': 'validation-ok', text: `Valid: no errors in ${keyCount} keys.` }));
    return;
  }
  const items = errors.map(([key, value, messages]) => el('li', { 'data-testid': 'validation-error', 'data-key': key },
    el('code', { class: 'key', text: key }),
    el('span', { class: 'value', text: value === null || value === undefined ? '(not set)' : ` = ${JSON.stringify(value)}` }),
    el('ul', { class: 'errors' }, messages.map((m) => el('li', { text: m })))));
  results.replaceChildren(
    el('p', { class: 'error', 'data-testid': 'validation-summary', text: `${errors.length} ${errors.length === 1 ? 'key has' : 'keys have'} errors:` }),
    el('ul', { class: 'validation-errors', 'data-testid': 'validation-errors' }, items));
}

async function save(text, results, creating, name) {
  let doc;
  try {
    doc = parseEditor(text, creating, name);
  } catch (e) {
    results.replaceChildren(el('p', { class: 'error', 'data-testid': 'validation-failed', role: 'alert', text: e.message }));
    return;
  }
  try {
    if (creating) await api('POST', '/connectors', doc);
    else await api('PUT', `${connectorPath(doc.name)}/config`, doc.config);
    showMessage(creating ? `Connector ${doc.name} created.` : `Config of ${doc.name} saved.`, 'ok', true);
    location.hash = connectorHash(doc.name);
  } catch (e) {
    showMessage(`Save failed: ${e.message} (HTTP ${e.status || 'error'})`, 'error');
    if (e.status === 400) runValidation(text, results, creating, name);
  }
}

// ---------------------------------------------------------------- routing

const ROUTES = [
  [/^#?\/?$/, (main) => renderList(main)],
  [/^#\/new$/, (main) => renderEditor(main)],
  [/^#\/connectors\/([^/]+)$/, (main, name) => renderConnector(main, name)],
  [/^#\/connectors\/([^/]+)\/edit$/, (main, name) => renderEditor(main, name)],
];

function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Renders the page of the current hash into a fresh container (stale polls write into the old one). */
function route() {
  stopPolling();
  clearMessage();
  showUpdated(undefined);
  const main = el('div', { class: 'page' });
  document.getElementById('main').replaceChildren(main);
  const hash = location.hash || '#/';
  for (const [pattern, render] of ROUTES) {
    const m = hash.match(pattern);
    if (m) {
      render(main, ...m.slice(1).map(decode));
      document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('current', a.getAttribute('href') === hash));
      return;
    }
  }
  main.append(el('h1', { text: 'Not found' }), el('p', {}, 'No such page. ', el('a', { href: '#/', text: 'Connectors' })));
}

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', route);
