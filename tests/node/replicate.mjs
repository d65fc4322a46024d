// A real PouchDB 9 client (memory adapter) for the Python tests: it replicates against a remote
// CouchDB-protocol URL (the gateway or pouchdb-server) and reports what happened, as JSON.
//
// Usage:
//   node replicate.mjs '<json command>'        one command, one JSON result line, then exit
//   node replicate.mjs < commands.jsonl        a session: one command per input line, one result line
//                                              per command, local databases kept between commands
//
// A command is one step ({"op": ...}) or {"steps": [step, ...]} (the result is {"ok", "results": [...]}).
// Steps (`db` names a local memory database, default "local"); a replication step with "keep_alive": true
// keeps its HTTP connections open between requests, as a browser does, and one with "fetch": "native" makes its
// requests with Node's own fetch, which also fails on an answer cut short, as a browser's does (`nativeFetch`):
//   {"op": "put", "db", "docs": [...], "new_edits": true}     bulkDocs into the local db; attachments are
//                                                              given as {"content_type", "data": base64}
//   {"op": "push"|"pull"|"sync", "db", "remote", "token", "docs"?, "batch_size"?, "batches_limit"?,
//    "options"?: {...replicate options}}                      a one-shot replication (docs are put first)
//   {"op": "live_pull"|"live_push", "db", "remote", "token", "expect_ids": [...], "timeout_ms",
//    "batch_size"?, "back_off_ms"?, "options"?}
//       a live replication; prints {"event": "live"} as soon as it is caught up, then, once every expected
//       document went through (or at the timeout), stops and answers with the epoch time (ms) each arrived
//   ... with "background": true, "name": answers at once and keeps replicating while other commands run;
//   {"op": "await", "name", "expect_ids", "timeout_ms"} then waits for it as above, or with "until_idle": true
//   until it has caught up without an error (the answer counts its retries and the documents it wrote).
//   The PWA's options: "options": {"retry": true}, "back_off": {"first_ms", "max_ms"} (its doubling back-off),
//   "pushable": {"user", "device"} (its push filter), "batches_limit"
//   {"op": "dump", "db", "with_data": true}                   every document, leaves, revisions, attachments
//   {"op": "get", "db", "id", "options"?} | {"op": "info", "db"} | {"op": "destroy", "db"}
//   {"op": "configure", "unhandled_rejections": "log"}        go on after a rejection nobody handled, as a browser
//                                                              does (see `logRejections`); answers those so far
// Every replication result reports the HTTP requests made to the remote (total, failed without an answer,
// per endpoint, and the time spent waiting for each endpoint's answers) and the time taken (ms).
// Errors are reported as {"ok": false, "error": {...}}, never thrown.

import crypto from 'node:crypto';
import http from 'node:http';
import readline from 'node:readline';

import PouchDB from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';

PouchDB.plugin(MemoryAdapter);
const MemoryPouch = PouchDB.defaults({ adapter: 'memory' });

const locals = new Map();

function local(name) {
  const key = name || 'local';
  if (!locals.has(key)) {
    locals.set(key, new MemoryPouch(key));
  }
  return locals.get(key);
}

function endpointOf(url, remote) {
  const u = new URL(url);
  const base = new URL(remote).pathname.replace(/\/+$/, '');
  let rest = u.pathname.startsWith(base) ? u.pathname.slice(base.length) : u.pathname;
  rest = rest.replace(/^\/+/, '');
  if (rest === '') return 'db';
  if (rest.startsWith('_local/')) return '_local';
  if (rest.startsWith('_')) return rest.split('/')[0];
  return rest.includes('/') ? 'attachment' : 'doc';
}

// Connections kept open between requests, as a browser keeps them. node-fetch (PouchDB's fetch in Node)
// sends `Connection: close` unless it is given an agent, so by default every request opens a new one.
const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
// PouchDB sets a timeout on _changes only. No other request of the tests takes this long: one that does is a
// request nobody answers, and it fails, as a browser's would, instead of leaving its replication waiting for good.
const REQUEST_TIMEOUT_MS = 30_000;

// Node's own fetch (undici) in place of node-fetch 2, PouchDB's in Node, for a step with "fetch": "native": like a
// browser's, it fails a request whose answer the network cut short, where node-fetch 2 notices that only for a chunked
// answer and waits for the rest of one with a Content-Length until the request's timeout; and, like a browser's, it
// keeps connections open between requests.
async function nativeFetch(url, opts) {
  const headers = new Headers();
  for (const [name, value] of opts.headers) headers.append(name, value);
  const res = await globalThis.fetch(url, { method: opts.method, headers, body: opts.body, signal: opts.signal });
  res.buffer = async () => Buffer.from(await res.arrayBuffer()); // PouchDB reads attachments so in Node
  return res;
}

// A remote database whose every request carries the bearer token and is counted.
function remoteDb(remote, token, counter, keepAlive = false, native = false) {
  const fetch = (url, opts) => {
    if (token) {
      opts.headers.set('Authorization', `Bearer ${token}`);
    }
    if (keepAlive) {
      opts.agent = keepAliveAgent;
    }
    if (!opts.signal) {
      opts.signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    }
    const method = (opts.method || 'GET').toUpperCase();
    const key = `${method} ${endpointOf(url, remote)}`;
    counter.total += 1;
    counter.by[key] = (counter.by[key] || 0) + 1;
    if (key.endsWith(' _changes')) {
      const q = new URL(url).searchParams;
      counter.changes.push({ since: q.get('since'), feed: q.get('feed') || 'normal', limit: q.get('limit') });
    }
    const started = performance.now();
    const answer = native ? nativeFetch(url, opts) : PouchDB.fetch(url, opts);
    // Time to the response headers: the server's share of each request (bodies are small, or streamed).
    answer.then(
      () => { counter.ms[key] = (counter.ms[key] || 0) + (performance.now() - started); },
      () => { counter.failed += 1; },
    );
    return answer;
  };
  return new PouchDB(remote, { fetch, skip_setup: true });
}

function newCounter() {
  return { total: 0, failed: 0, by: {}, ms: {}, changes: [] };
}

function errorJson(err) {
  if (!err) return null;
  return {
    status: err.status ?? null,
    name: err.name ?? null,
    error: err.error ?? null,
    message: err.message ?? String(err),
    reason: err.reason ?? null,
    id: err.id ?? null,
  };
}

function summary(res) {
  // PouchDB's replication result, trimmed to what the tests compare.
  if (!res) return null;
  return {
    ok: res.ok,
    status: res.status,
    docs_read: res.docs_read,
    docs_written: res.docs_written,
    doc_write_failures: res.doc_write_failures,
    errors: (res.errors || []).map(errorJson),
    last_seq: res.last_seq,
  };
}

async function put(step) {
  const db = local(step.db);
  const docs = step.docs || [];
  const res = await db.bulkDocs(docs, { new_edits: step.new_edits !== false });
  const failed = res.filter((r) => r.error);
  return { ok: failed.length === 0, results: res, written: docs.length - failed.length };
}

async function replicate(step) {
  const db = local(step.db);
  if (step.docs && step.docs.length) {
    const put = await db.bulkDocs(step.docs, { new_edits: step.new_edits !== false });
    const failed = put.filter((r) => r.error);
    if (failed.length) {
      return { ok: false, error: { message: 'local put failed', results: failed } };
    }
  }
  const counter = newCounter();
  const remote = remoteDb(step.remote, step.token, counter, step.keep_alive === true, step.fetch === 'native');
  const opts = { ...(step.options || {}) };
  if (step.batch_size) opts.batch_size = step.batch_size;
  if (step.batches_limit) opts.batches_limit = step.batches_limit;
  const denied = [];
  const started = performance.now();
  let result;
  let error = null;
  try {
    if (step.op === 'push') {
      result = summary(await trackDenied(db.replicate.to(remote, opts), denied));
    } else if (step.op === 'pull') {
      result = summary(await trackDenied(db.replicate.from(remote, opts), denied));
    } else {
      const both = await db.sync(remote, opts);
      result = { push: summary(both.push), pull: summary(both.pull), ok: both.push.ok && both.pull.ok };
    }
  } catch (err) {
    error = errorJson(err);
    result = summary(err.result) || {};
  }
  const ms = performance.now() - started;
  return { ...result, ok: error === null && result.ok !== false, error, denied, ms, requests: counter };
}

function trackDenied(rep, denied) {
  rep.on('denied', (err) => denied.push(errorJson(err)));
  return rep;
}

// Live replications, by name: started in the foreground (live_pull/live_push: wait for the expected
// documents, then stop) or in the background ("background": true; later {"op": "await", "name"}).
const lives = new Map();

// The PWA's back-off (pwa/src/sync-config.ts `backOff`): `first_ms`, then doubling up to `max_ms`.
function doublingBackOff({ first_ms: first, max_ms: max }) {
  return (previous) => (previous <= 0 ? first : Math.min(previous * 2, max));
}

// The PWA's push filter (pwa/src/db.ts `pushable`): what this user or this device wrote.
function pushable({ user, device }) {
  return (doc) => (user !== '' && doc.created_by === user) || doc.device === device;
}

function startLive(step) {
  const db = local(step.db);
  const counter = newCounter();
  const remote = remoteDb(step.remote, step.token, counter, step.keep_alive === true, step.fetch === 'native');
  const opts = { live: true, retry: false, ...(step.options || {}) };
  if (step.batch_size) opts.batch_size = step.batch_size;
  if (step.batches_limit) opts.batches_limit = step.batches_limit;
  if (step.back_off_ms) opts.back_off_function = () => step.back_off_ms;
  if (step.back_off) opts.back_off_function = doublingBackOff(step.back_off);
  if (step.pushable) opts.filter = pushable(step.pushable);
  const rep = step.op === 'live_push' ? db.replicate.to(remote, opts) : db.replicate.from(remote, opts);
  const state = {
    rep, counter, arrived: {}, denied: [], failure: null, pausedAt: null, started: performance.now(),
    written: 0, retries: 0, lastError: null,
    wake: () => {},
    onCaughtUp: () => {},
  };
  rep.on('change', (info) => {
    const now = Date.now();
    state.written += info.docs_written || 0;
    for (const doc of info.docs || []) {
      if (!(doc._id in state.arrived)) state.arrived[doc._id] = now;
    }
    state.wake();
  });
  rep.on('paused', (err) => {
    if (err) {
      // With `retry`, a failed request pauses the replication, which starts again after the back-off.
      state.retries += 1;
      state.lastError = errorJson(err);
    } else if (state.pausedAt === null) {
      state.pausedAt = Date.now();
      state.onCaughtUp(state.pausedAt);
      state.wake();
    }
  });
  rep.on('denied', (err) => state.denied.push(errorJson(err)));
  rep.on('error', (err) => {
    state.failure = errorJson(err);
    state.wake();
  });
  return state;
}

async function awaitLive(state, step) {
  const expect = new Set(step.expect_ids || []);
  // "until_idle": done once the replication has caught up without an error (PouchDB's `paused` without one: every
  // change up to now written and checkpointed), however many times it failed and started again before.
  const complete = step.until_idle
    ? () => state.pausedAt !== null
    : () => [...expect].every((id) => id in state.arrived);
  const outcome = await new Promise((resolve) => {
    const check = () => {
      if (state.failure) resolve('error');
      else if (complete()) resolve('complete');
    };
    state.wake = check;
    setTimeout(() => resolve('timeout'), step.timeout_ms || 10000);
    check();
  });
  // Listening first: a replication cancelled between requests completes at once.
  const stopped = new Promise((resolve) => {
    state.rep.on('complete', resolve);
    setTimeout(resolve, 1000);
  });
  state.rep.cancel();
  await stopped;
  return {
    ok: outcome === 'complete',
    outcome,
    error: state.failure,
    arrived: state.arrived,
    missing: [...expect].filter((id) => !(id in state.arrived)),
    denied: state.denied,
    docs_written: state.written,
    retries: state.retries,
    last_error: state.lastError,
    ms: performance.now() - state.started,
    requests: state.counter,
  };
}

async function live(step, emit) {
  const state = startLive(step);
  if (step.background) {
    lives.set(step.name || 'live', state);
    return { ok: true, name: step.name || 'live' };
  }
  // Foreground: say when the replication is caught up, so that the caller can start writing.
  state.onCaughtUp = (at) => emit({ event: 'live', at });
  return awaitLive(state, step);
}

async function awaitNamed(step) {
  const name = step.name || 'live';
  const state = lives.get(name);
  if (!state) return { ok: false, error: { message: `no live replication named ${name}` } };
  lives.delete(name);
  return awaitLive(state, step);
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function describeAttachments(atts, withData) {
  const out = {};
  for (const [name, att] of Object.entries(atts || {})) {
    let bytes = null;
    if (att.data !== undefined) {
      bytes = Buffer.isBuffer(att.data) ? att.data : Buffer.from(att.data, 'base64');
    }
    out[name] = {
      content_type: att.content_type,
      digest: att.digest,
      length: bytes ? bytes.length : att.length,
      revpos: att.revpos,
      sha256: bytes ? sha256(bytes) : null,
      ...(withData && bytes ? { data: bytes.toString('base64') } : {}),
    };
  }
  return out;
}

function bodyOf(doc) {
  const body = {};
  for (const [k, v] of Object.entries(doc)) {
    if (!k.startsWith('_')) body[k] = v;
  }
  return body;
}

// Everything a replica knows, in a form Python can compare across replicas.
async function dump(step) {
  const db = local(step.db);
  const withData = step.with_data !== false;
  const changes = await db.changes({ since: 0, style: 'all_docs', include_docs: true, conflicts: true });
  const docs = {};
  for (const row of changes.results) {
    const winner = row.doc;
    const leaves = await db.get(row.id, { open_revs: 'all', revs: true, attachments: true, binary: true });
    const leafOut = {};
    for (const leaf of leaves) {
      if (!leaf.ok) continue;
      const d = leaf.ok;
      leafOut[d._rev] = {
        deleted: d._deleted === true,
        revisions: d._revisions,
        body: bodyOf(d),
        attachments: describeAttachments(d._attachments, withData),
      };
    }
    let deletedConflicts = [];
    if (!row.deleted) {
      const full = await db.get(row.id, { deleted_conflicts: true, conflicts: true, revs: true });
      deletedConflicts = (full._deleted_conflicts || []).slice().sort();
    }
    docs[row.id] = {
      winner: winner._rev,
      deleted: row.deleted === true,
      conflicts: (winner._conflicts || []).slice().sort(),
      deleted_conflicts: deletedConflicts,
      revisions: leafOut[winner._rev] ? leafOut[winner._rev].revisions : null,
      leaves: leafOut,
    };
  }
  const info = await db.info();
  return { ok: true, doc_count: info.doc_count, update_seq: info.update_seq, docs };
}

// Rejections nobody handles end this process (Node's default) unless a session asked, with {"op": "configure",
// "unhandled_rejections": "log"}, to go on as a browser does, which logs them: PouchDB 9's replicator asks the source
// for its `info()` after each batch to update its progress and never handles a failure, so a pull whose network
// drops at that request crashes Node, where the PWA in a browser carries on.
let logRejections = false;
const loggedRejections = [];
process.on('unhandledRejection', (err) => {
  if (!logRejections) throw err;
  loggedRejections.push(errorJson(err));
  process.stderr.write(`unhandled rejection, carried on as a browser does: ${err && err.stack}\n`);
});

async function runStep(step, emit) {
  try {
    switch (step.op) {
      case 'configure':
        logRejections = step.unhandled_rejections === 'log';
        return { ok: true, logged: loggedRejections };
      case 'put':
        return await put(step);
      case 'push':
      case 'pull':
      case 'sync':
        return await replicate(step);
      case 'live_pull':
      case 'live_push':
        return await live(step, emit);
      case 'await':
        return await awaitNamed(step);
      case 'dump':
        return await dump(step);
      case 'get':
        return { ok: true, doc: await local(step.db).get(step.id, step.options || {}) };
      case 'info':
        return { ok: true, ...(await local(step.db).info()) };
      case 'destroy': {
        await local(step.db).destroy();
        locals.delete(step.db || 'local');
        return { ok: true };
      }
      default:
        return { ok: false, error: { message: `unknown op ${step.op}` } };
    }
  } catch (err) {
    return { ok: false, error: errorJson(err) };
  }
}

async function runCommand(command, emit) {
  if (Array.isArray(command.steps)) {
    const results = [];
    for (const step of command.steps) {
      results.push(await runStep(step, emit));
    }
    return { ok: results.every((r) => r.ok), results };
  }
  return runStep(command, emit);
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  if (process.argv[2]) {
    emit(await runCommand(JSON.parse(process.argv[2]), emit));
    return;
  }
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let command;
    try {
      command = JSON.parse(line);
    } catch (err) {
      emit({ ok: false, error: { message: `bad JSON command: ${err.message}` } });
      continue;
    }
    emit(await runCommand(command, emit));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    emit({ ok: false, error: errorJson(err) });
    process.exit(1);
  },
);
