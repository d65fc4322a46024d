// Replication settings, kept apart from db.ts so they can be tested without PouchDB or IndexedDB.

/** Changes per pull request: fewer round trips on a poor signal, and fewer (larger) writes on the phone. A city
 *  grid's first download (~13,000 documents) took a third longer in batches of 200, most of it spent by PouchDB per
 *  batch (a transaction, a checkpoint on both sides); a batch of 500 is ~0.4 MB, seconds on a poor signal. The
 *  gateway takes up to 1,000 (server/sync/routes.py MAX_BULK_GET). */
export const PULL_BATCH_SIZE = 500;

/**
 * What a grid worker's phone pulls of its scope (a `_changes` selector): every document but photos, which are fetched
 * when shown (../events `photoUrl`), and the points ledger (a document per shop and month, holding about 6 entries,
 * dozens of shops' worth), which the worker's screens do not read. Deletions always: a deleted document
 * keeps no `type` to match, and the server deletes a hazard it has merged into an older one (an owner's older
 * self-check arrived after the patrol), which the phone must then stop showing.
 */
export const PULL_SELECTOR = { $or: [{ type: { $nin: ['photo', 'ledger'] } }, { _deleted: true }] };
/**
 * What an owner's phone pulls: the same, with the points ledger. An owner holds one shop (about 70 entries a year, in
 * a document per month), and the home's 积分明细 shows what each change of the score was for (../owner-ledger).
 */
export const OWNER_PULL_SELECTOR = { $or: [{ type: { $nin: ['photo'] } }, { _deleted: true }] };

/** The pull's selector for the signed-in user (`owner:{shop}`, `grid:{name}`, …). */
export function pullSelector(user: string): typeof PULL_SELECTOR | typeof OWNER_PULL_SELECTOR {
  return user.startsWith('owner:') ? OWNER_PULL_SELECTOR : PULL_SELECTOR;
}
/** Photos go up one per request, so a weak signal finishes each one and an alarm never queues behind many. */
export const PHOTO_BATCH_SIZE = 1;
/** Longest wait between retries once the server or the network has failed. */
export const MAX_BACK_OFF_MS = 60_000;

/** `${baseUrl}/sync/`, the gateway's CouchDB-compatible database. */
export function syncUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/sync/`;
}

/** A fetch for PouchDB that adds the Bearer token to every request. */
export function bearerFetch(token: string): (url: string | Request, opts?: RequestInit) => Promise<Response> {
  return (url, opts = {}) => {
    const headers = new Headers(opts.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return fetch(url, { ...opts, headers });
  };
}

/** 1 s, 2 s, 4 s … up to a minute: a phone coming back into signal should not wait 10 minutes. */
export function backOff(previousMs: number): number {
  return previousMs <= 0 ? 1_000 : Math.min(previousMs * 2, MAX_BACK_OFF_MS);
}
