// The local PouchDB (IndexedDB) and its replication with the gateway's /sync/ endpoint.
import PouchDB from 'pouchdb-browser';
import { backOff, bearerFetch, PULL_BATCH_SIZE, syncUrl } from './sync-config';
import { updateSyncFacts } from './sync-status';

export const LOCAL_DB_NAME = 'mashang';

const DEVICE_KEY = 'mashang.device';
const PUSHED_SEQ_KEY = 'mashang.pushedSeq';

export type LocalDb = PouchDB.Database;

let db: LocalDb | null = null;

/** The device's database, created on first use. */
export function localDb(): LocalDb {
  db ??= new PouchDB(LOCAL_DB_NAME);
  return db;
}

function stored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage unavailable: the value lives for this page only
  }
}

let device: string | null = null;

/** A stable id for this browser (`device` in the wire format), made on first use. */
export function deviceId(): string {
  device ??= stored(DEVICE_KEY);
  if (device === null) {
    const bytes = crypto.getRandomValues(new Uint8Array(6));
    device = 'd-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    store(DEVICE_KEY, device);
  }
  return device;
}

interface ReplicationError {
  status?: number;
  name?: string;
  message?: string;
  reason?: string;
  id?: string;
}

function describe(err: unknown): string {
  const e = (err ?? {}) as ReplicationError;
  return [e.id, e.reason ?? e.message ?? e.name].filter(Boolean).join(': ') || 'unknown error';
}

export interface SyncHandle {
  /** Stop both replications and the listeners. */
  cancel(): void;
}

/**
 * Replicate the local database with the gateway as the signed-in user: pull everything in scope
 * (batches of 200), push this device's documents; both live, retrying forever with back-off.
 * Feeds the header's sync status (synced / pending / offline / error).
 */
export function startSync(baseUrl: string, token: string): SyncHandle {
  const local = localDb();
  const me = deviceId();
  const remote = new PouchDB(syncUrl(baseUrl), { fetch: bearerFetch(token), skip_setup: true });

  let pushedSeq: number = Number(stored(PUSHED_SEQ_KEY) ?? 0) || 0;
  let pull: PouchDB.Replication.Replication<object> | null = null;
  let push: PouchDB.Replication.Replication<object> | null = null;
  let refused: string | undefined; // sticky until the page reloads; the office sees the quarantine
  let fatal: string | undefined; // 401/403 on the whole replication: the sign-in is no longer valid
  let counting: Promise<void> | null = null;
  let recountAgain = false;
  let cancelled = false;

  const showError = (): void => updateSyncFacts({ error: fatal ?? refused });

  // Pending = this device's own changes after the last one the push replication got past.
  const recount = (): void => {
    if (counting) {
      recountAgain = true;
      return;
    }
    counting = local
      .changes({ since: pushedSeq, include_docs: true })
      .then((res) => {
        const mine = res.results.filter((c) => (c.doc as { device?: string } | undefined)?.device === me);
        updateSyncFacts({ pending: mine.length });
      })
      .catch(() => undefined)
      .finally(() => {
        counting = null;
        if (recountAgain && !cancelled) {
          recountAgain = false;
          recount();
        }
      });
  };

  const setPushedSeq = (seq: number | string): void => {
    const n = Number(seq);
    if (Number.isFinite(n) && n > pushedSeq) {
      pushedSeq = n;
      store(PUSHED_SEQ_KEY, String(n));
    }
  };

  const onPaused = (err: unknown): void => {
    if (cancelled) return;
    if (err) {
      // A failed request that will be retried: no signal, or the server is unreachable.
      updateSyncFacts({ online: false });
    } else {
      updateSyncFacts({ online: navigator.onLine });
    }
  };

  const onFatal = (err: unknown): void => {
    fatal = describe(err);
    showError();
  };

  const replicationOptions = { live: true, retry: true, back_off_function: backOff };

  const begin = (): void => {
    pull = local.replicate
      .from(remote, { ...replicationOptions, batch_size: PULL_BATCH_SIZE })
      .on('paused', onPaused)
      .on('error', onFatal);
    push = local.replicate
      .to(remote, replicationOptions)
      .on('change', (info) => {
        setPushedSeq(info.last_seq);
        recount();
      })
      .on('paused', (err: unknown) => {
        onPaused(err);
        if (!err) {
          // Caught up: everything written before now has been offered to the server.
          void local.info().then((i) => {
            setPushedSeq(i.update_seq);
            recount();
          });
        }
      })
      .on('denied', (err: unknown) => {
        refused = describe(err);
        showError();
      })
      .on('error', onFatal);
  };

  const end = (): void => {
    pull?.cancel();
    push?.cancel();
    pull = push = null;
  };

  // Coming back into signal: start again now rather than after the current back-off.
  // (The online/offline flag itself is kept by watchConnectivity in sync-status.ts.)
  const onOnline = (): void => {
    if (fatal === undefined && !cancelled) {
      end();
      begin();
    }
  };
  window.addEventListener('online', onOnline);

  const localChanges = local.changes({ since: 'now', live: true }).on('change', recount);

  updateSyncFacts({ online: navigator.onLine });
  // A remembered checkpoint beyond the database's end means the database was wiped: count afresh.
  void local.info().then((i) => {
    if (pushedSeq > Number(i.update_seq)) pushedSeq = 0;
    recount();
  });
  begin();

  return {
    cancel(): void {
      cancelled = true;
      window.removeEventListener('online', onOnline);
      localChanges.cancel();
      end();
    },
  };
}
