// The local PouchDB databases (IndexedDB) and their replication with the gateway's /sync/ endpoint.
// Data documents sync live both ways; photos live in their own database, pushed one per request after the
// text has gone, so an alarm never waits behind a photo. Pending counts are checked against the server.
import PouchDB from 'pouchdb-browser';
import { coalesce } from './coalesce';
import { deviceId, store, stored, storedJson } from './device';
import { clearAllDrafts, draftsMention } from './drafts';
import { dueToRetire, expired, retire, type Retired } from './photo-retention';
import { backOff, bearerFetch, PHOTO_BATCH_SIZE, PULL_BATCH_SIZE, pullSelector, syncUrl } from './sync-config';
import { describeSyncError, onSyncStatus, type ReplicationError, updateSyncFacts } from './sync-status';

export { deviceId } from './device';

export const LOCAL_DB_NAME = 'mashang';
export const PHOTOS_DB_NAME = 'mashang-photos';
/** Photos of forms not sent yet (../draft-photos): on this phone only, never replicated. */
export const DRAFT_PHOTOS_DB_NAME = 'mashang-draft-photos';

const PUSHED_SEQ_KEY = 'mashang.pushedSeq';
const PHOTOS_PUSHED_SEQ_KEY = 'mashang.photosPushedSeq';
const REFUSED_KEY = 'mashang.refused';
const LAST_PUSH_KEY = 'mashang.lastPush';
const LAST_PULL_KEY = 'mashang.lastPull';
const DATA_USER_KEY = 'mashang.dataUser';
const PHOTOS_NAME_KEY = 'mashang.photosDb'; // the current photos database (./photo-retention)
const PHOTOS_RETIRED_KEY = 'mashang.photosRetired';
const PHOTOS_FORGOTTEN_KEY = 'mashang.photosForgotten';
const RECOUNT_DELAY_MS = 150;

export type LocalDb = PouchDB.Database;

let db: LocalDb | null = null;
let photos: LocalDb | null = null;
let draftPhotos: LocalDb | null = null;

/** The device's data database (events written here, projections pulled here). */
export function localDb(): LocalDb {
  if (db === null) {
    db = new PouchDB(LOCAL_DB_NAME);
    // Each reader of the changes (the sync, the ledgers' counts, the screen shown) holds a listener while it reads:
    // a first download has about a dozen at once, past the default limit of 10 at which the console warns of a
    // leak. There is none: they settle at 6 (measured through offline cycles and screen changes).
    db.setMaxListeners(32);
  }
  return db;
}

export type LocalChange = PouchDB.Core.ChangesResponseChange<object>;

const followers = new Set<(change: LocalChange) => void>();
let feed: { db: LocalDb; changes: PouchDB.Core.Changes<object> } | null = null;

/** After a live feed failed, the wait before another is opened. */
const FEED_RETRY_MS = 1000;

function openFeed(source: LocalDb): PouchDB.Core.Changes<object> {
  const changes = source
    .changes({ since: 'now', live: true, include_docs: true })
    .on('change', (change) => {
      for (const follower of [...followers]) follower(change);
    })
    .on('error', () => {
      // A live feed that fails stays stopped (PouchDB does not open it again): with it, every screen would stop
      // following the data for good. Another one is opened while anyone follows this database.
      if (feed?.changes !== changes) return;
      feed = null;
      setTimeout(() => {
        if (feed === null && followers.size > 0 && db === source) feed = { db: source, changes: openFeed(source) };
      }, FEED_RETRY_MS);
    });
  return changes;
}

/**
 * Call `onChange` with each change of the local database (its document included) from now on; returns the way to
 * stop. Every follower (the screen shown, the pending count, the grid's alarm news) shares one live feed: PouchDB
 * reads every changed document again for each feed, and a first download writes thousands of them.
 */
export function followChanges(onChange: (change: LocalChange) => void): () => void {
  const db = localDb();
  if (feed?.db !== db) {
    feed?.changes.cancel();
    feed = { db, changes: openFeed(db) };
  }
  followers.add(onChange);
  return () => {
    followers.delete(onChange);
    if (followers.size === 0 && feed?.db === db) {
      feed.changes.cancel();
      feed = null;
    }
  };
}

let current: (() => void) | null = null;
const drawn = (): Promise<void> => Promise.resolve();
/** The screen shown draws what the local database holds now (see `whileShown`). */
let drawShown: () => Promise<void> = drawn;

/** How long a caught-up download waits for the screen to draw what came before the header says 已同步. */
const DRAW_WAIT_MS = 3000;

/**
 * Call `onChange` (throttled) after changes of the local database while `node` is on the page. One screen shows
 * at a time (the owner's home, a grid worker's list or e-file), so a new screen's listener replaces the last one.
 * Call it before the screen's first read: a change written while that read runs is then not missed. `onChange` may
 * return when it has drawn: a download that has caught up waits for that before it says so (`startSync`).
 */
export function whileShown(node: HTMLElement, onChange: () => void | Promise<void>, delayMs = 300): void {
  current?.();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let drawing: Promise<void> | null = null;
  const draw = (): Promise<void> => {
    const done: Promise<void> = Promise.resolve()
      .then(onChange)
      .catch(() => undefined)
      .finally(() => {
        if (drawing === done) drawing = null;
      });
    drawing = done;
    return done;
  };
  const later = (): void => {
    if (timer !== null) return; // at most one redraw per delay, even while changes keep coming
    timer = setTimeout(() => {
      timer = null;
      if (node.isConnected) return void draw();
      stop();
      if (current === stop) current = null;
    }, delayMs);
  };
  // The download caught up: the redraw waiting for its delay is made now (a first sign-in's list stayed empty
  // for up to a second under 已同步), or the one under way is waited for.
  const now = (): Promise<void> => {
    if (!node.isConnected) return drawn();
    if (timer === null) return drawing ?? drawn();
    clearTimeout(timer);
    timer = null;
    return draw();
  };
  drawShown = now;
  const stopFeed = followChanges(later);
  // What waits and what the server refused change without a write to the local database (the server took a record,
  // or refused it: a refusal is kept in the phone's storage). A screen shows them (待上传, 被拒收; a refused patrol is
  // no visit), so it is drawn again when the header's counts of them change too.
  let counted: string | null = null;
  const stopStatus = onSyncStatus((status) => {
    const now = `${status.pending} ${status.refused}`;
    if (counted !== null && counted !== now) later();
    counted = now;
  });
  const stop = (): void => {
    stopFeed();
    stopStatus();
    if (drawShown === now) drawShown = drawn;
  };
  current = stop;
}

/** The device's current photos database: new photos go here; pushed by its own replication, never pulled. */
export function photosDb(): LocalDb {
  photos ??= new PouchDB(stored(PHOTOS_NAME_KEY) ?? PHOTOS_DB_NAME);
  return photos;
}

/** The photos taken in forms not sent yet: they move to the photos database when their form is sent. */
export function draftPhotosDb(): LocalDb {
  draftPhotos ??= new PouchDB(DRAFT_PHOTOS_DB_NAME);
  return draftPhotos;
}

function retiredPhotos(): Retired[] {
  return storedJson<Retired[]>(PHOTOS_RETIRED_KEY, []);
}

const retiredDbs = new Map<string, LocalDb>();

/** Every local database that may hold a photo: the current one, then the retired ones (newest first). */
export function photoDbs(): LocalDb[] {
  const older = retiredPhotos()
    .reverse()
    .map((r) => {
      let found = retiredDbs.get(r.name);
      if (!found) retiredDbs.set(r.name, (found = new PouchDB(r.name)));
      return found;
    });
  return [photosDb(), ...older];
}

let photoWrites = 0;

/** Store a new photo in the current photos database (counted: a database never retires under a write). */
export async function putPhoto(doc: PouchDB.Core.PutDocument<Record<string, unknown>>): Promise<void> {
  photoWrites++;
  try {
    const { id } = await photosDb().put(doc);
    ledgers?.photos.noteWritten([id]); // the header counts it now, not at the next count
  } finally {
    photoWrites--;
  }
}

/** How many photos the phone forgot last (the server has them), and when. */
export function photosForgotten(): { count: number; at: string } | null {
  return storedJson<{ count: number; at: string } | null>(PHOTOS_FORGOTTEN_KEY, null);
}

/**
 * Retire the current photos database when it is due (../photo-retention), and destroy the retired ones whose
 * photos are old enough. True when the current database changed: its push must start again on the new one.
 */
export async function tidyPhotos(now: number = Date.now()): Promise<boolean> {
  const current = photosDb();
  const ledger = makeLedgers().photos;
  const before = await current.info();
  const ids = (await current.allDocs()).rows.map((r) => r.id);
  const waiting = (await ledger.unacknowledged()).length;
  const after = await current.info();
  // No await from here to the switch: a photo being written, or written since `before`, keeps it.
  const retiring = dueToRetire(ids, waiting, now) && photoWrites === 0 && after.update_seq === before.update_seq;
  if (retiring && photos === current) {
    store(PHOTOS_RETIRED_KEY, JSON.stringify([...retiredPhotos(), retire(current.name, ids)]));
    const name = `${PHOTOS_DB_NAME}-${now}`;
    store(PHOTOS_NAME_KEY, name);
    photos = new PouchDB(name);
    ledger.moveTo(photos);
  }
  const due = expired(retiredPhotos(), now);
  const gone = expired(due, now, await holdingRefused(due));
  let forgotten = 0;
  for (const r of gone) {
    // Off the list first: a photo looked up meanwhile must not open (and so create) the database again.
    store(PHOTOS_RETIRED_KEY, JSON.stringify(retiredPhotos().filter((x) => x.name !== r.name)));
    const retiredDb = retiredDbs.get(r.name) ?? new PouchDB(r.name);
    retiredDbs.delete(r.name);
    await retiredDb.destroy().catch(() => undefined);
    forgotten += r.count;
  }
  if (forgotten) store(PHOTOS_FORGOTTEN_KEY, JSON.stringify({ count: forgotten, at: new Date(now).toISOString() }));
  return retiring;
}

/** Of these retired photo databases, the names of those holding a photo the server refused that the user has not
 *  dismissed yet: kept (../photo-retention). */
async function holdingRefused(retired: Retired[]): Promise<Set<string>> {
  const unseen = refusedDocs().map((r) => r.id).filter((id) => id.includes(':photo:'));
  const holding = new Set<string>();
  if (unseen.length === 0) return holding;
  for (const r of retired) {
    const db = retiredDbs.get(r.name) ?? new PouchDB(r.name);
    retiredDbs.set(r.name, db);
    const rows = (await db.allDocs({ keys: unseen })).rows;
    if (rows.some((row) => 'value' in row && !row.value.deleted)) holding.add(r.name);
  }
  return holding;
}

export interface Refused {
  id: string;
  reason: string;
  at: string;
  /** The user has seen it; it stays listed so the document never counts as waiting again. */
  dismissed?: boolean;
}

function allRefused(): Refused[] {
  return storedJson<Refused[]>(REFUSED_KEY, []);
}

/** The ids of every document the server refused (dismissed or not): a refusal is for good. */
export function refusedIds(): Set<string> {
  return new Set(allRefused().map((r) => r.id));
}

/** Documents the server refused, with its reasons, that the user has not dismissed yet. */
export function refusedDocs(): Refused[] {
  return allRefused().filter((r) => !r.dismissed);
}

function saveRefused(list: Refused[]): void {
  store(REFUSED_KEY, list.length ? JSON.stringify(list.slice(-500)) : null);
  updateSyncFacts({ refused: list.filter((r) => !r.dismissed).length });
}

export function dismissRefused(): void {
  saveRefused(allRefused().map((r) => ({ ...r, dismissed: true })));
}

export interface SyncTimes {
  last_push: string | null;
  last_pull: string | null;
}

export function syncTimes(): SyncTimes {
  return { last_push: stored(LAST_PUSH_KEY), last_pull: stored(LAST_PULL_KEY) };
}

/** One push side (data or photos): the sequence the server has acknowledged up to, and the count after it. */
export class PushLedger {
  seq: number;
  pending = 0;
  /** The ids counted last (`pending` of them): which shops still wait, without reading the changes again. */
  waiting: string[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private db: LocalDb,
    private readonly key: string,
    /** Whether a local document is this device's own (pulled documents are not "waiting"). */
    private readonly mine: (doc: { device?: string } | undefined) => boolean,
    private readonly onCount: () => void,
  ) {
    this.seq = Number(stored(key) ?? 0) || 0;
  }

  advance(seq: number | string): void {
    const n = Number(seq);
    if (Number.isFinite(n) && n > this.seq) {
      this.seq = n;
      store(this.key, String(n));
    }
  }

  /** Follow another database from its start (the photos' current one was replaced). */
  moveTo(db: LocalDb): void {
    this.db = db;
    this.seq = 0;
    store(this.key, '0');
    this.recount();
  }

  /** This device's documents after the acknowledged sequence: [id, rev, seq]. */
  async unacknowledged(): Promise<{ id: string; rev: string; seq: number }[]> {
    const next = this.reading.then(() => this.readChanges());
    this.reading = next.catch(() => undefined);
    await next;
    const refused = refusedIds();
    return [...this.mineAfter]
      .filter(([id, d]) => d.seq > this.seq && !refused.has(id))
      .map(([id, d]) => ({ id, ...d }))
      .sort((a, b) => a.seq - b.seq);
  }

  // The changes are read from where the last count stopped, not from the acknowledged sequence: a first download
  // writes thousands of pulled documents past it, and reading them all again at each count (every few hundred
  // milliseconds while it lasts) made the download quadratic. `mineAfter` holds this device's documents, at their
  // latest change, among the changes after `readFrom` up to `readTo`.
  private readonly mineAfter = new Map<string, { rev: string; seq: number }>();
  private readFrom = 0;
  private readTo = 0;
  private readDb: LocalDb | null = null;
  private reading: Promise<void> = Promise.resolve();

  private async readChanges(): Promise<void> {
    if (this.readDb !== this.db || this.seq < this.readFrom) {
      // Another database, or a checkpoint moved back (a wiped database): read from the checkpoint again.
      this.mineAfter.clear();
      this.readDb = this.db;
      this.readFrom = this.readTo = this.seq;
    }
    const db = this.db;
    const res = await db.changes({ since: this.readTo, include_docs: true });
    if (db !== this.readDb) return; // moved to another database meanwhile: the next read starts afresh
    let last = this.readTo;
    for (const c of res.results) {
      const seq = Number(c.seq);
      last = Math.max(last, seq);
      this.mineAfter.delete(c.id);
      if (!c.deleted && this.mine(c.doc as { device?: string })) this.mineAfter.set(c.id, { rev: c.changes[0]?.rev ?? '', seq });
    }
    this.readTo = Math.max(last, Number(res.last_seq ?? 0) || 0);
    // What the server has acknowledged is never asked for again (the checkpoint only moves forward, or reads afresh).
    for (const [id, d] of this.mineAfter) if (d.seq <= this.seq) this.mineAfter.delete(id);
    this.readFrom = Math.max(this.readFrom, Math.min(this.seq, this.readTo));
  }

  /** Count again soon: a pull writing thousands of documents asks for it on each; one count serves them all. */
  recount(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.count();
    }, RECOUNT_DELAY_MS);
  }

  /** Ids `noteWritten` counted since the last count began: a count that read the changes before they were written
   *  keeps them (the next one, which `noteWritten` asks for, finds them in the changes). */
  private noted = new Set<string>();

  /**
   * These documents were just written on this device: count them as waiting now. The count from the changes comes a
   * moment later, and until then the header said 已同步 right after a submit, which the offline promise (the app
   * always shows what waits) does not allow.
   */
  noteWritten(ids: Iterable<string>): void {
    const waiting = new Set(this.waiting);
    for (const id of ids) {
      this.noted.add(id);
      waiting.add(id);
    }
    this.waiting = [...waiting];
    this.pending = this.waiting.length;
    this.onCount();
    this.recount();
  }

  private readonly count = coalesce(async () => {
    this.noted.clear();
    const ids = (await this.unacknowledged()).map((d) => d.id);
    const counted = new Set(ids);
    this.waiting = [...ids, ...[...this.noted].filter((id) => !counted.has(id))];
    this.pending = this.waiting.length;
    this.onCount();
  });

  /**
   * The push is idle: ask the server which of our documents it has (revs_diff), and move the acknowledged
   * sequence past the leading run it has. A document written meanwhile is never counted as sent.
   */
  async confirm(remote: LocalDb): Promise<void> {
    const docs = await this.unacknowledged();
    if (docs.length === 0) {
      const info = await this.db.info();
      // Nothing of ours after the checkpoint: the rest are pulled documents; skip past them.
      const again = await this.unacknowledged();
      if (again.length === 0) this.advance(info.update_seq);
    } else {
      const query: Record<string, string[]> = {};
      for (const d of docs) (query[d.id] ??= []).push(d.rev);
      const missing = (await remote.revsDiff(query)) as Record<string, unknown>;
      let upTo: number | null = null;
      for (const d of docs) {
        if (d.id in missing) break;
        upTo = d.seq;
      }
      if (upTo !== null) this.advance(upTo);
      if (docs.every((d) => !(d.id in missing))) store(LAST_PUSH_KEY, new Date().toISOString());
    }
    this.recount();
  }

  private retries = 0;

  /**
   * `confirm` again after a growing pause (sync-config's `backOff`) while it fails. Its question to the server is
   * a request the signal can cut off as it cuts a batch, and nothing else asks again until the push has something new
   * to send: the header kept saying that a record the server had was waiting to upload. Ends once one is answered, or
   * when `stopped()` (the sync ended) or a newer call took over. `wait` is the pause (a test's clock).
   */
  async confirmLater(
    remote: LocalDb,
    stopped: () => boolean,
    wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ): Promise<void> {
    const mine = ++this.retries;
    for (let pause = backOff(0); ; pause = backOff(pause)) {
      await wait(pause);
      if (stopped() || mine !== this.retries) return;
      try {
        await this.confirm(remote);
        return;
      } catch {
        // cut off again: the next pause is longer
      }
    }
  }
}

export interface SyncHandle {
  /** Stop every replication and listener. */
  cancel(): void;
}

let active: SyncHandle | null = null;
let ledgers: { data: PushLedger; photos: PushLedger } | null = null;

function makeLedgers(): { data: PushLedger; photos: PushLedger } {
  if (ledgers) return ledgers;
  const me = deviceId();
  const publish = (): void =>
    updateSyncFacts({ pendingDocs: ledgers?.data.pending ?? 0, pendingPhotos: ledgers?.photos.pending ?? 0 });
  ledgers = {
    data: new PushLedger(localDb(), PUSHED_SEQ_KEY, (d) => d?.device === me, publish),
    photos: new PushLedger(photosDb(), PHOTOS_PUSHED_SEQ_KEY, () => true, publish),
  };
  return ledgers;
}

/** The events of a submission were just written on this device (../events appendEvents): the header counts them at
 *  once. */
export function noteWritten(ids: readonly string[]): void {
  ledgers?.data.noteWritten(ids);
}

/** How many documents and photos wait for the server (computed afresh). */
export async function pendingCounts(): Promise<{ docs: number; photos: number }> {
  const l = makeLedgers();
  const [docs, pics] = await Promise.all([l.data.unacknowledged(), l.photos.unacknowledged()]);
  return { docs: docs.length, photos: pics.length };
}

/** The shops (partitions) holding a record or photo of this device the server had not acknowledged at the ledgers'
 *  last count (the header's count comes from the same one). */
export function shopsWaiting(): Set<string> {
  const l = makeLedgers();
  return new Set([...l.data.waiting, ...l.photos.waiting].map((id) => id.split(':')[0] ?? ''));
}

/**
 * Of `ids`, those this device wrote that the server has not acknowledged yet (`unsent`), and every id the server
 * refused (`refused`, dismissed or not): what the owner's home needs to tell a waiting rectification.
 */
export async function uploadState(ids: readonly string[]): Promise<{ unsent: Set<string>; refused: Set<string> }> {
  const refused = refusedIds();
  if (ids.length === 0) return { unsent: new Set(), refused };
  const wanted = new Set(ids);
  const waiting = await makeLedgers().data.unacknowledged();
  return { unsent: new Set(waiting.map((d) => d.id).filter((id) => wanted.has(id))), refused };
}

/** What signing out (or another user signing in) would lose: what waits for the server, and the photos of saved
 *  drafts (../draft-photos; those of forms left without a draft could never be sent, and are not counted). */
export async function countPending(): Promise<number> {
  // Listed, not counted (a draft holds a few): the idb adapter's doc_count missed a photo just held.
  const [{ docs, photos: pics }, held] = await Promise.all([pendingCounts(), draftPhotosDb().allDocs()]);
  return docs + pics + held.rows.filter((row) => draftsMention(row.id)).length;
}

/**
 * Replicate with the gateway as the signed-in user: pull everything in scope but photos (in batches of
 * sync-config's PULL_BATCH_SIZE), push this device's documents, then its photos one at a time; all live, retrying
 * with a capped back-off. Feeds the header's sync status. Calls `onIdle` whenever the data push has caught up.
 */
/**
 * Whether the push sends `doc`: what this user or this device wrote. The documents pulled from the server (the
 * server's projections, colleagues' and the owner's events) go up only to be told they are there, and after a
 * change of scope (a shop moved to another grid) the server answers every id outside the new scope as missing,
 * so they went up and came back refused, into the office's quarantine under this user's name.
 */
export function pushable(doc: { created_by?: unknown; device?: unknown }, user: string, device: string): boolean {
  return (user !== '' && doc.created_by === user) || doc.device === device;
}

export function startSync(baseUrl: string, token: string, onIdle?: () => void, user = ''): SyncHandle {
  active?.cancel();
  const local = localDb();
  const remote = new PouchDB(syncUrl(baseUrl), { fetch: bearerFetch(token), skip_setup: true });
  const { data: dataLedger, photos: photoLedger } = makeLedgers();

  let pull: PouchDB.Replication.Replication<object> | null = null;
  let push: PouchDB.Replication.Replication<object> | null = null;
  let photoPush: PouchDB.Replication.Replication<object> | null = null;
  let cancelled = false;

  const onPaused = (err: unknown): void => {
    if (cancelled) return;
    // A failed request will be retried. Without an answer it is the signal (or the server is unreachable); with
    // the server's error (its storage full, a 5xx) the phone is online and says why it is stuck.
    const status = (err as ReplicationError | null)?.status ?? 0;
    if (!err) updateSyncFacts({ online: navigator.onLine, error: undefined, unreachable: false });
    else if (status >= 400) updateSyncFacts({ online: navigator.onLine, error: describeSyncError(err), unreachable: false });
    // No answer: with no signal the phone is offline; with one, the server is down or out of reach (say which).
    else updateSyncFacts({ online: false, unreachable: navigator.onLine });
  };
  const onFatal = (err: unknown): void => {
    if (cancelled) return;
    updateSyncFacts({ error: describeSyncError(err) });
    // The sign-in is no longer valid: ask for it again; nothing local is lost.
    if ((err as ReplicationError | null)?.status === 401) void import('./session').then((s) => s.dropSession());
  };
  const onDenied = (err: unknown): void => {
    const e = (err ?? {}) as ReplicationError;
    const list = allRefused().filter((r) => r.id !== e.id);
    list.push({ id: e.id ?? '?', reason: e.reason ?? e.message ?? 'forbidden', at: new Date().toISOString() });
    saveRefused(list);
    dataLedger.recount();
    photoLedger.recount();
  };

  const options = { live: true, retry: true, back_off_function: backOff };

  const startPhotos = (): void => {
    if (photoPush || cancelled) return;
    const source = photosDb();
    photoPush = source.replicate
      .to(remote, { ...options, batch_size: PHOTO_BATCH_SIZE, batches_limit: 1 })
      .on('change', (info) => {
        if (source !== photosDb()) return; // a late event of a retired database's push
        photoLedger.advance(info.last_seq);
        photoLedger.recount();
        if (info.docs_written > 0) store(LAST_PUSH_KEY, new Date().toISOString());
      })
      .on('paused', (err: unknown) => {
        onPaused(err);
        if (err) return;
        void photoLedger
          .confirm(remote)
          .then(
            () => tidyPhotos(),
            (err: unknown) => {
              void photoLedger.confirmLater(remote, () => cancelled);
              throw err;
            },
          )
          .then((replaced) => {
            if (!replaced || cancelled) return;
            stopPhotos();
            watchPhotos();
            startPhotos();
          })
          .catch(() => undefined);
      })
      .on('denied', onDenied)
      .on('error', onFatal);
  };
  const stopPhotos = (): void => {
    photoPush?.cancel();
    photoPush = null;
  };

  // Bumped by whatever the pull does next: a catch-up waiting for the screen to draw says so only if nothing came
  // after it (a new batch, a restart).
  let pullMoves = 0;
  const begin = (): void => {
    // Until the download has caught up, the header says so: what the phone shows is not complete yet.
    pullMoves++;
    updateSyncFacts({ pulling: true, toPull: null });
    pull = local.replicate
      .from(remote, { ...options, batch_size: PULL_BATCH_SIZE, selector: pullSelector(user) })
      .on('active', () => {
        pullMoves++;
        updateSyncFacts({ pulling: true });
      })
      .on('change', (info) => {
        pullMoves++;
        store(LAST_PULL_KEY, new Date().toISOString());
        const left = (info as { pending?: unknown }).pending;
        updateSyncFacts({ pulling: true, toPull: typeof left === 'number' ? left : null });
      })
      .on('paused', (err: unknown) => {
        onPaused(err);
        if (err) return; // a failed request: the download has not caught up, whatever the push says
        store(LAST_PULL_KEY, new Date().toISOString());
        // 已同步 once the screen shows what came: it redraws at most once a second while batches arrive, and a
        // first sign-in's shop list stayed empty under 已同步 until then.
        const move = ++pullMoves;
        const waited = new Promise<void>((resolve) => setTimeout(resolve, DRAW_WAIT_MS));
        void Promise.race([drawShown(), waited]).then(() => {
          if (move === pullMoves && !cancelled) updateSyncFacts({ pulling: false, toPull: null });
        });
      })
      .on('error', (err: unknown) => {
        pullMoves++;
        updateSyncFacts({ pulling: false, toPull: null });
        onFatal(err);
      });
    const me = deviceId();
    push = local.replicate
      .to(remote, { ...options, filter: (doc: { created_by?: unknown; device?: unknown }) => pushable(doc, user, me) })
      // Text first: photos wait while this device's documents are going up (not for pulled ones).
      .on('active', () => {
        void dataLedger
          .unacknowledged()
          .then((docs) => docs.length > 0 && stopPhotos())
          .catch(() => undefined);
      })
      .on('change', (info) => {
        dataLedger.advance(info.last_seq);
        dataLedger.recount();
        if (info.docs_written > 0) store(LAST_PUSH_KEY, new Date().toISOString());
      })
      .on('paused', (err: unknown) => {
        onPaused(err);
        if (err) return;
        void dataLedger
          .confirm(remote)
          .catch(() => void dataLedger.confirmLater(remote, () => cancelled))
          .finally(() => {
            startPhotos();
            onIdle?.();
          });
      })
      .on('denied', onDenied)
      .on('error', onFatal);
  };

  const end = (): void => {
    pullMoves++;
    pull?.cancel();
    push?.cancel();
    stopPhotos();
    pull = push = null;
    updateSyncFacts({ pulling: false, toPull: null });
  };

  // Back into signal: start again now rather than after the current back-off.
  const onOnline = (): void => {
    if (!cancelled) {
      end();
      begin();
    }
  };
  window.addEventListener('online', onOnline);

  const stopWatch = followChanges(() => dataLedger.recount());
  let photoWatch: PouchDB.Core.Changes<object> | null = null;
  function watchPhotos(): void {
    photoWatch?.cancel();
    photoWatch = photosDb()
      .changes({ since: 'now', live: true })
      .on('change', () => photoLedger.recount());
  }
  watchPhotos();

  updateSyncFacts({ online: navigator.onLine, refused: refusedDocs().length });
  // A remembered checkpoint beyond a database's end means the database was wiped: count afresh.
  void Promise.all([local.info(), photosDb().info()]).then(([a, b]) => {
    if (dataLedger.seq > Number(a.update_seq)) dataLedger.seq = 0;
    if (photoLedger.seq > Number(b.update_seq)) photoLedger.seq = 0;
    dataLedger.recount();
    photoLedger.recount();
  });
  begin();

  const handle: SyncHandle = {
    cancel(): void {
      cancelled = true;
      window.removeEventListener('online', onOnline);
      stopWatch();
      photoWatch?.cancel();
      end();
      if (active === handle) active = null;
    },
  };
  active = handle;
  return handle;
}

export function stopSync(): void {
  active?.cancel();
}

/** Count what waits without replicating (signed out, or before sync starts). */
export function watchPending(): void {
  const l = makeLedgers();
  l.data.recount();
  l.photos.recount();
}

/** Remove the local databases, the drafts and the sync bookkeeping (sign-out with nothing left to send, or its
 *  owner's choice to discard it). */
export async function destroyLocal(): Promise<void> {
  stopSync();
  // The drafts first, before the databases take their time to go: a sign-out that ends with the databases removed
  // has forgotten the drafts (a test read the previous owner's draft in that moment, and so could the next user).
  clearAllDrafts();
  feed?.changes.cancel(); // the followers left follow the next database from their next call
  feed = null;
  await Promise.all([localDb().destroy(), draftPhotosDb().destroy(), ...photoDbs().map((p) => p.destroy())]);
  db = photos = draftPhotos = null;
  ledgers = null;
  retiredDbs.clear();
  const keys = [PUSHED_SEQ_KEY, PHOTOS_PUSHED_SEQ_KEY, REFUSED_KEY, LAST_PUSH_KEY, LAST_PULL_KEY, DATA_USER_KEY];
  for (const key of [...keys, PHOTOS_NAME_KEY, PHOTOS_RETIRED_KEY, PHOTOS_FORGOTTEN_KEY]) store(key, null);
  clearAllDrafts(); // and any a form opened meanwhile saved
  updateSyncFacts({ pendingDocs: 0, pendingPhotos: 0, refused: 0 });
}

/**
 * Before syncing as `userId`: when the local data belongs to someone else (a phone changing hands) and none
 * of it waits for the server, remove it, so nobody sees another shop's records. Data still waiting stays
 * (it goes up, or to the server's quarantine, rather than being lost). True when the data was removed.
 */
export async function claimFor(userId: string): Promise<boolean> {
  const previous = stored(DATA_USER_KEY);
  let removed = false;
  if (previous !== null && previous !== userId && (await countPending().catch(() => 1)) === 0) {
    await destroyLocal();
    removed = true;
  }
  store(DATA_USER_KEY, userId);
  return removed;
}

function blobToBase64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(blob);
  });
}

/** A document with its attachments inline in base64, as `_bulk_docs` takes it. */
async function withAttachments(db: LocalDb, id: string): Promise<Record<string, unknown>> {
  const doc = await db.get(id, { attachments: true, binary: true });
  const atts = (doc as { _attachments?: Record<string, { content_type: string; data: Blob }> })._attachments ?? {};
  const plain: Record<string, { content_type: string; data: string }> = {};
  for (const [name, a] of Object.entries(atts)) plain[name] = { content_type: a.content_type, data: await blobToBase64(a.data) };
  return Object.keys(plain).length ? { ...doc, _attachments: plain } : { ...doc };
}

/** The document `id` from whichever local database still holds it (the data, then the photos, newest first). */
async function localCopy(id: string): Promise<Record<string, unknown> | null> {
  for (const db of [localDb(), ...photoDbs()]) {
    try {
      return await withAttachments(db, id);
    } catch {
      // not in this one
    }
  }
  return null;
}

/**
 * Every document and photo not yet acknowledged by the server, as one JSON file (photos in base64), and every one
 * the server refused that the phone still holds, with the server's reason: the file the office (or an operator,
 * with the admin token) can bring them back from once the cause is mended.
 */
export async function exportPending(): Promise<Blob> {
  const l = makeLedgers();
  const [docs, pics] = await Promise.all([l.data.unacknowledged(), l.photos.unacknowledged()]);
  const out: unknown[] = [];
  for (const d of docs) out.push(await localDb().get(d.id));
  for (const p of pics) out.push(await withAttachments(photosDb(), p.id));
  const refused: unknown[] = [];
  for (const r of allRefused()) {
    const doc = await localCopy(r.id);
    if (doc) refused.push({ id: r.id, reason: r.reason, at: r.at, doc });
  }
  const body = { exported_at: new Date().toISOString(), device: deviceId(), docs: out, refused };
  return new Blob([JSON.stringify(body, null, 1)], { type: 'application/json' });
}
