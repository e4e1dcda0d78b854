// The web console at /ui in headless Chromium, against a real worker on the real stack
// (Apache Kafka, Apache Cassandra): the three reference pipelines fed by `cassink produce`,
// every page read and every action clicked, its effect checked over REST.
//
//   source integration/env.sh && integration/stack.sh up && cargo build -p cassink
//   (cd integration/ui && npm ci) && node --test integration/ui
//
// CHROMIUM names the browser (default /usr/bin/chromium), CASSINK_BIN the binary (default
// target/debug/cassink). Screenshots and the worker's log go to target/ui-screenshots/.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const h = require('./harness');

const SUFFIX = `ui${Date.now().toString(36)}`;
const PIPELINES = ['tweets', 'weather', 'meter'].map((w) => h.referenceConnector(w, SUFFIX));
const WAIT_MS = 90_000;

let worker;
let rest;
let browser;
let producers;
let dir;

const num = (text) => (text === '–' ? NaN : Number(text.replace(/,/g, '').replace(/ ms$/, '')));
const pageUrl = (hash = '#/') => `${worker.base}/ui/${hash}`;
const connectorHash = (name) => `#/connectors/${encodeURIComponent(name)}`;

/** A page of a fresh browser context logged in as `user`; JS errors on it fail the test. */
async function openPage(t, user) {
  const context = await browser.newContext({
    httpCredentials: h.credentials(user),
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.after(async () => {
    await context.close();
    assert.deepEqual(errors, [], 'the console threw');
  });
  return page;
}

/** Waits until `fn(arg)` is truthy in the page (re-evaluated on every animation frame). */
async function waitInPage(page, what, fn, arg) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: WAIT_MS });
  } catch (e) {
    const file = path.join(h.ARTIFACTS, `failed-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    const text = await page.innerText('main').catch(() => '');
    throw new Error(`timed out waiting for ${what} on ${page.url()} (screenshot ${file}): ${e.message.split('\n')[0]}\n${text.slice(0, 2000)}`);
  }
}

function shot(page, name) {
  return page.screenshot({ path: path.join(h.ARTIFACTS, `${name}.png`), fullPage: true });
}

async function connectorState(name) {
  const { status, body } = await rest('GET', `/connectors/${encodeURIComponent(name)}/status`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

/** The state the connector page shows, and its tasks' states, equal `state`. */
function pageShowsState(page, state, tasks) {
  return waitInPage(page, `the page to show ${state}`, ([want, n]) => {
    const shown = document.querySelector('[data-testid="connector-state"]');
    const rows = [...document.querySelectorAll('[data-testid="task-row"] [data-testid="task-state"]')];
    return shown && shown.textContent === want && rows.length === n && rows.every((r) => r.textContent === want);
  }, [state, tasks]);
}

before(async () => {
  dir = h.tempDir();
  execFileSync(path.join(h.REPO, 'integration', 'stack.sh'), ['schema'], { stdio: 'inherit' });
  for (const c of PIPELINES) {
    h.run(['produce', c.workload, '--topic', c.topic, '--create-topic', '--count', '0', '--bootstrap', h.BOOTSTRAP]);
  }
  worker = await h.startWorker(dir);
  rest = h.restClient(worker.base, 'admin');
  for (const c of PIPELINES) {
    const res = await rest('POST', '/connectors', { name: c.name, config: c.config });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  // About two minutes of traffic at 25 records/s per pipeline, so the charts see it move.
  producers = h.startProducers(PIPELINES, 3000, 25);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
});

after(async () => {
  await browser?.close();
  await producers?.stop();
  // The connectors go with the worker's temporary state.dir; their topics and groups are this
  // run's own.
  await worker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the web console', { timeout: 10 * 60_000 }, () => {
  it('is served from the binary, with content types, behind basic auth', async () => {
    const anonymous = await h.restClient(worker.base, null)('GET', '/ui/');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') || '', /^Basic/);
    for (const [file, type] of [['', 'text/html'], ['app.js', 'text/javascript'], ['chart.js', 'text/javascript'], ['app.css', 'text/css'], ['favicon.svg', 'image/svg+xml']]) {
      const res = await rest('GET', `/ui/${file}`);
      assert.equal(res.status, 200, file);
      assert.ok(res.headers.get('content-type').startsWith(type), `${file}: ${res.headers.get('content-type')}`);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
    }
    assert.equal((await rest('GET', '/ui')).status, 200);
    const missing = await rest('GET', '/ui/missing.js');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 404);
    assert.match(missing.body.message, /missing\.js/);
  });

  it('lists the three reference connectors as RUNNING, with records read', async (t) => {
    const page = await openPage(t, 'admin');
    await page.goto(pageUrl('#/'));
    for (const c of PIPELINES) {
      await waitInPage(page, `${c.name} RUNNING with ${c.tasks} tasks and records read`, ([name, tasks, topic]) => {
        const row = document.querySelector(`tr[data-testid="connector-row"][data-name="${CSS.escape(name)}"]`);
        const text = (id) => row.querySelector(`[data-testid="${id}"]`).textContent;
        return row && text('state') === 'RUNNING' && text('tasks') === `${tasks}/${tasks}`
          && text('topics') === topic && Number(text('read').replace(/,/g, '')) > 0;
      }, [c.name, c.tasks, c.topic]);
    }
    const names = await page.$$eval('tr[data-testid="connector-row"]', (rows) => rows.map((r) => r.dataset.name));
    assert.deepEqual(names, PIPELINES.map((c) => c.name).sort());
    const link = page.locator(`tr[data-name="${PIPELINES[0].name}"] [data-testid="connector-link"]`);
    assert.equal(await link.getAttribute('href'), connectorHash(PIPELINES[0].name));
    await shot(page, 'connectors');
  });

  for (const c of PIPELINES) {
    it(`shows ${c.workload}'s tasks, partitions, counts and live charts`, async (t) => {
      const page = await openPage(t, 'admin');
      await page.goto(pageUrl(connectorHash(c.name)));
      await pageShowsState(page, 'RUNNING', c.tasks);
      await waitInPage(page, 'partitions with offsets, written records and chart points', () => {
        const q = (id) => document.querySelector(`[data-testid="${id}"]`);
        const n = (node) => Number(node.textContent.replace(/,/g, '').replace(/ ms$/, ''));
        const parts = [...document.querySelectorAll('[data-testid="partition-row"]')];
        return parts.length === 3
          && parts.every((p) => Number.isFinite(n(p.querySelector('[data-testid="committed"]'))))
          && parts.some((p) => n(p.querySelector('[data-testid="committed"]')) > 0)
          && parts.every((p) => Number.isFinite(n(p.querySelector('[data-testid="end"]'))))
          && n(q('count-written')) > 0
          && Number(q('chart-rate').dataset.points) >= 3
          && Number(q('chart-lag').dataset.points) >= 3;
      });

      // The tasks and the workers are the real ones, as REST reports them.
      const status = await connectorState(c.name);
      const tasks = await page.$$eval('[data-testid="task-row"]', (rows) => rows.map((r) => ({
        id: Number(r.dataset.task),
        worker: r.querySelector('[data-testid="task-worker"]').textContent,
      })));
      assert.deepEqual(tasks, status.tasks.map((x) => ({ id: x.id, worker: x.worker_id })));
      assert.equal(await page.textContent('[data-testid="connector-worker"]'), status.connector.worker_id);

      // Partitions of the connector's topic; every offset REST reports is on the page.
      const parts = await page.$$eval('[data-testid="partition-row"]', (rows) => rows.map((r) => `${r.dataset.topic}/${r.dataset.partition}`));
      assert.deepEqual(parts, [0, 1, 2].map((p) => `${c.topic}/${p}`));
      const offsets = (await rest('GET', `/connectors/${encodeURIComponent(c.name)}/offsets`)).body.offsets;
      for (const o of offsets) assert.ok(parts.includes(`${o.partition.kafka_topic}/${o.partition.kafka_partition}`));

      // Every reconciliation count and the write latency have a value.
      for (const key of ['read', 'written', 'skipped', 'failed', 'filtered', 'in_flight', 'dead_lettered']) {
        const value = num(await page.textContent(`[data-testid="count-${key}"]`));
        assert.ok(value >= 0, `count ${key} is ${value}`);
      }
      const read = num(await page.textContent('[data-testid="count-read"]'));
      const written = num(await page.textContent('[data-testid="count-written"]'));
      assert.ok(read >= written && written > 0, `read ${read}, written ${written}`);
      for (const key of ['latency-avg', 'latency-max']) {
        assert.ok(num(await page.textContent(`[data-testid="${key}"]`)) >= 0, key);
      }
      for (const [chart, line] of [['chart-rate', 'read'], ['chart-rate', 'written'], ['chart-lag', 'lag']]) {
        const points = await page.getAttribute(`[data-testid="${chart}"] polyline.${line}`, 'points');
        assert.ok(points.split(' ').length >= 3, `${chart} ${line}: ${points}`);
      }
      await shot(page, `connector-${c.workload}`);
    });
  }

  it('pauses and resumes a connector for real', async (t) => {
    const c = PIPELINES[1];
    const page = await openPage(t, 'admin');
    await page.goto(pageUrl(connectorHash(c.name)));
    await pageShowsState(page, 'RUNNING', c.tasks);

    await page.click('[data-testid="action-pause"]');
    await h.eventually('REST to report PAUSED', async () => (await connectorState(c.name)).connector.state === 'PAUSED');
    await pageShowsState(page, 'PAUSED', c.tasks);
    assert.deepEqual((await connectorState(c.name)).tasks.map((x) => x.state), Array(c.tasks).fill('PAUSED'));

    await page.click('[data-testid="action-resume"]');
    await h.eventually('REST to report RUNNING', async () => (await connectorState(c.name)).connector.state === 'RUNNING');
    await pageShowsState(page, 'RUNNING', c.tasks);
  });

  it('shows failed tasks with their traces, and restarts them once the cause is fixed', async (t) => {
    const meter = PIPELINES[2];
    const name = `ui-failing-${SUFFIX}`;
    const table = `ui_missing_${SUFFIX.replace(/[^a-z0-9]/g, '')}`;
    const config = {};
    for (const [key, value] of Object.entries(meter.config)) config[key.replace('.kafkapipeline.meter_data.', `.kafkapipeline.${table}.`)] = value;
    config['tasks.max'] = '2';
    t.after(async () => {
      await rest('DELETE', `/connectors/${encodeURIComponent(name)}`);
      h.cql(`DROP TABLE IF EXISTS kafkapipeline.${table}`);
    });
    assert.equal((await rest('POST', '/connectors', { name, config })).status, 201);
    const page = await openPage(t, 'admin');
    await page.goto(pageUrl(connectorHash(name)));
    await waitInPage(page, 'two failed tasks with their traces', (tbl) => {
      const states = [...document.querySelectorAll('[data-testid="task-state"]')].map((x) => x.textContent);
      const traces = [...document.querySelectorAll('pre[data-testid="task-trace"]')].map((x) => x.textContent);
      return states.join() === 'FAILED,FAILED' && traces.length === 2 && traces.every((x) => x.includes(`${tbl} does not exist`));
    }, table);
    await shot(page, 'connector-failed');

    // The table appears; "Restart task 0" brings task 0 back, task 1 stays failed.
    h.cql(`CREATE TABLE kafkapipeline.${table} (id uuid, timestamp timestamp, p_1 float, p_2 float, p_3 float,
      q_1 float, q_2 float, q_3 float, harm frozen<list<int>>, PRIMARY KEY (id, timestamp))`);
    await page.click('[data-testid="task-row"][data-task="0"] [data-testid="task-restart"]');
    const taskStates = async () => (await connectorState(name)).tasks.map((x) => x.state).join();
    await h.eventually('task 0 RUNNING over REST', async () => (await taskStates()) === 'RUNNING,FAILED');
    await waitInPage(page, 'task 0 RUNNING, task 1 FAILED', () => [...document.querySelectorAll('[data-testid="task-state"]')]
      .map((x) => x.textContent).join() === 'RUNNING,FAILED');

    // Restart with include tasks + only failed restarts task 1.
    await page.check('[data-testid="restart-include-tasks"]');
    await page.check('[data-testid="restart-only-failed"]');
    await page.click('[data-testid="action-restart"]');
    await h.eventually('both tasks RUNNING over REST', async () => (await taskStates()) === 'RUNNING,RUNNING');
    await pageShowsState(page, 'RUNNING', 2);
    assert.equal(await page.locator('pre[data-testid="task-trace"]').count(), 0);
  });

  it('creates a connector from JSON after validation, edits it and deletes it', async (t) => {
    const page = await openPage(t, 'admin');
    const meter = PIPELINES[2];
    const name = `ui-created-${SUFFIX}`;
    const bad = { ...meter.config, port: 'not-a-port' };
    await page.goto(pageUrl('#/new'));
    await page.fill('[data-testid="editor-json"]', JSON.stringify({ name, config: bad }, null, 2));
    await page.click('[data-testid="action-validate"]');
    const portError = page.locator('[data-testid="validation-error"][data-key="port"]');
    await portError.waitFor({ timeout: WAIT_MS });
    assert.match(await portError.textContent(), /not-a-port.*Not a number/);
    assert.deepEqual(await page.$$eval('[data-testid="validation-error"]', (li) => li.map((x) => x.dataset.key)), ['port']);
    await shot(page, 'create-validation');

    await page.fill('[data-testid="editor-json"]', JSON.stringify({ name, config: meter.config }, null, 2));
    await page.click('[data-testid="action-validate"]');
    await page.locator('[data-testid="validation-ok"]').waitFor({ timeout: WAIT_MS });
    await page.click('[data-testid="action-save"]');
    await page.waitForURL((u) => u.hash === connectorHash(name), { timeout: WAIT_MS });
    assert.equal((await rest('GET', `/connectors/${encodeURIComponent(name)}`)).status, 200);
    await page.goto(pageUrl('#/'));
    await page.locator(`tr[data-testid="connector-row"][data-name="${name}"]`).waitFor({ timeout: WAIT_MS });

    // Edit: fewer tasks.
    await page.goto(pageUrl(`${connectorHash(name)}/edit`));
    await waitInPage(page, 'the config in the editor', () => document.querySelector('[data-testid="editor-json"]').value.includes('connector.class'));
    const config = JSON.parse(await page.inputValue('[data-testid="editor-json"]'));
    assert.equal(config.topics, meter.topic);
    await page.fill('[data-testid="editor-json"]', JSON.stringify({ ...config, 'tasks.max': '1' }, null, 2));
    await page.click('[data-testid="action-validate"]');
    await page.locator('[data-testid="validation-ok"]').waitFor({ timeout: WAIT_MS });
    await shot(page, 'edit');
    await page.click('[data-testid="action-save"]');
    await page.waitForURL((u) => u.hash === connectorHash(name), { timeout: WAIT_MS });
    assert.equal((await rest('GET', `/connectors/${encodeURIComponent(name)}/config`)).body['tasks.max'], '1');
    await pageShowsState(page, 'RUNNING', 1);
    await waitInPage(page, 'the one task to own the three partitions', () => {
      const tasks = [...document.querySelectorAll('[data-testid="partition-task"]')].map((x) => x.textContent);
      return tasks.join() === '0,0,0';
    });

    // Delete: a dismissed confirm keeps it, an accepted one deletes it.
    page.once('dialog', (d) => d.dismiss());
    await page.click('[data-testid="action-delete"]');
    assert.equal((await rest('GET', `/connectors/${encodeURIComponent(name)}`)).status, 200);
    page.once('dialog', (d) => d.accept());
    await page.click('[data-testid="action-delete"]');
    await page.waitForURL((u) => u.hash === '#/', { timeout: WAIT_MS });
    await waitInPage(page, 'the list without the deleted connector', (n) => document.querySelectorAll('tr[data-testid="connector-row"]').length > 0
      && !document.querySelector(`tr[data-testid="connector-row"][data-name="${CSS.escape(n)}"]`), name);
    assert.equal((await rest('GET', `/connectors/${encodeURIComponent(name)}`)).status, 404);
  });

  it('lets a read user see everything, but an action answers 403 and changes nothing', async (t) => {
    const c = PIPELINES[0];
    const page = await openPage(t, 'reader');
    await page.goto(pageUrl('#/'));
    await page.locator(`tr[data-testid="connector-row"][data-name="${c.name}"]`).waitFor({ timeout: WAIT_MS });
    await page.goto(pageUrl(connectorHash(c.name)));
    await pageShowsState(page, 'RUNNING', c.tasks);
    await page.click('[data-testid="action-pause"]');
    const message = page.locator('[data-testid="message"][data-kind="error"]');
    await message.waitFor({ timeout: WAIT_MS });
    assert.match(await message.textContent(), /This user may only read \(role read\).*403/);
    assert.equal((await connectorState(c.name)).connector.state, 'RUNNING');
    // The page polled again after the failed action and still shows the unchanged state.
    await pageShowsState(page, 'RUNNING', c.tasks);
    await shot(page, 'reader-403');
  });
});
