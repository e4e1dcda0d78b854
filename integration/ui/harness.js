// What the console tests stand on: a real `cassink worker` process (basic auth on, a free
// port, its own state.dir) against the stack named by KAFKA_BOOTSTRAP,
// CASSANDRA_CONTACT_POINTS and CASSANDRA_PORT, the three reference connectors of
// connectors/*.json under names and topics unique to this run, fed by `cassink produce`.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(REPO, 'target');
const BIN = process.env.CASSINK_BIN || path.join(TARGET, 'debug', 'cassink');
const BOOTSTRAP = process.env.KAFKA_BOOTSTRAP || '127.0.0.1:9092';
const CONTACT = (process.env.CASSANDRA_CONTACT_POINTS || '127.0.0.1').split(',')[0].trim();
const CQL_PORT = process.env.CASSANDRA_PORT || '9042';
const ARTIFACTS = path.join(TARGET, 'ui-screenshots');

// Fixed bcrypt hashes (cost 4: the worker checks them on every request) of fixed passwords.
const USERS = {
  admin: { password: 'ui-admin-pw', hash: '$2b$04$4DTCdDzJVThU9CeKs2VywurblcrKQancUGKwC2hKgqds4tPO33SVW', role: 'admin' },
  reader: { password: 'ui-reader-pw', hash: '$2b$04$.kgAKv0z0i3EWK7LGfuFEOmcfONFac115v/C4cHTQuq6FncgdwSma', role: 'read' },
};
const credentials = (user) => ({ username: user, password: USERS[user].password });

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` (async, truthy when done) every 250 ms until `timeoutMs`; returns its value. */
async function eventually(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const got = await check();
      if (got) return got;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A REST client of one worker, as `user` (null: no credentials). */
function restClient(base, user = 'admin') {
  return async (method, urlPath, body) => {
    const headers = { Accept: 'application/json' };
    if (user) headers.Authorization = `Basic ${Buffer.from(`${user}:${USERS[user].password}`).toString('base64')}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(base + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, body: json };
  };
}

/** The shipped connector `workload` (tweets, weather, meter), renamed for this run. */
function referenceConnector(workload, suffix) {
  const doc = JSON.parse(fs.readFileSync(path.join(REPO, 'connectors', `${workload}.json`), 'utf8'));
  const topic = `${workload}-${suffix}`;
  const config = {};
  for (const [key, value] of Object.entries(doc.config)) {
    // topic.<workload>.<ks>.<table>.* keys follow the topic's new name.
    config[key.replace(new RegExp(`^topic\\.${workload}\\.`), `topic.${topic}.`)] = value;
  }
  Object.assign(config, { topics: topic, contactPoints: CONTACT, port: CQL_PORT });
  return { workload, topic, tasks: Number(config['tasks.max']), name: `${doc.name}-${suffix}`, config };
}

function run(args) {
  return execFileSync(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).toString();
}

/** Runs CQL statements with the venv's cqlsh on the stack's Cassandra (as env.sh finds them). */
function cql(statements) {
  execFileSync('bash', ['-c', 'source "$1" && "$VENV/bin/cqlsh" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" -e "$2"',
    'cql', path.join(REPO, 'integration', 'env.sh'), statements], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
}

/** Starts the worker; resolves once /health answers 200. */
async function startWorker(dir) {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build -p cassink first`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const users = Object.entries(USERS).map(([u, v]) => `${u}:${v.hash}:${v.role}`).join('\n');
  fs.writeFileSync(path.join(dir, 'users'), `# console test users\n${users}\n`);
  fs.writeFileSync(path.join(dir, 'worker.properties'), [
    `bootstrap.servers=${BOOTSTRAP}`,
    `listeners=${base}`,
    `state.dir=${path.join(dir, 'state')}`,
    'offset.flush.interval.ms=1000',
    `rest.auth.credentials.file=${path.join(dir, 'users')}`,
  ].join('\n') + '\n');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const logPath = path.join(ARTIFACTS, 'worker.log');
  const log = fs.openSync(logPath, 'w');
  const proc = spawn(BIN, ['worker', '--config', path.join(dir, 'worker.properties')], { stdio: ['ignore', log, log] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  await eventually('the worker to serve /health', async () => {
    if (proc.exitCode !== null) throw new Error(`the worker exited (${proc.exitCode}); log: ${logPath}`);
    return (await fetch(`${base}/health`)).status === 200;
  }, 60_000);
  const stop = async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
    fs.closeSync(log);
  };
  return { base, port, logPath, stop };
}

/** Background producers of the reference workloads; `stop()` ends those still running. */
function startProducers(connectors, count, rate) {
  const procs = connectors.map((c) => spawn(BIN, [
    'produce', c.workload, '--topic', c.topic, '--count', String(count), '--rate', String(rate),
    '--bootstrap', BOOTSTRAP,
  ], { stdio: ['ignore', 'ignore', 'inherit'] }));
  return {
    stop: () => Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null
      ? null
      : new Promise((resolve) => { p.once('exit', resolve); p.kill('SIGTERM'); })))),
  };
}

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cassink-ui-'));
}

module.exports = {
  REPO, ARTIFACTS, BOOTSTRAP, USERS, credentials, cql, eventually, restClient, referenceConnector, run,
  startWorker, startProducers, tempDir,
};
