// Photos from the server kept on the phone for a day without signal (photos are never pulled into the local database:
// they would crowd out the text). While there is signal a screen asks for the ones that day needs, fetched into a
// Cache Storage of the signed-in user's own; offline, its thumbnails come from there. The grid worker's list keeps
// the owners' latest self-check photos of the shops still to patrol and the photos of the fixes to verify
// (grid/due.ts `photosToKeep`); the owner's home keeps the photos of the shop's hazards not closed yet and of the
// owner's fixes of them the server has (owner.ts).
import { forgetPhotoUrl, photoUrl } from './events';
import { fetchPhoto, photoPath } from './photo-fetch';
import { currentSession } from './session';

/** The caches' name before the user's id (`mashang-grid-photos:owner:S0001`): from when only the grid kept photos,
 *  kept so the caches already on the phones stay theirs and a new user's first round still drops them. */
export const PHOTO_CACHE = 'mashang-grid-photos';
/** Enough for a month's round of one grid worker, small enough for a cheap phone (an owner asks for far fewer). */
const MAX_CACHED = 300;

/** The signed-in user's own cache: another user of the same phone never sees these photos. */
function cacheName(): string | null {
  const user = currentSession()?.user.id;
  return user ? `${PHOTO_CACHE}:${user}` : null;
}

async function openCache(): Promise<Cache | null> {
  const name = cacheName();
  try {
    return typeof caches === 'undefined' || !name ? null : await caches.open(name);
  } catch {
    return null; // storage disabled
  }
}

/** Drop the photo caches on this phone but `keep`'s: those of users who signed in before (all at sign-out). */
async function dropCaches(keep: string | null): Promise<void> {
  for (const name of await caches.keys()) {
    if (name.startsWith(PHOTO_CACHE) && name !== keep) await caches.delete(name);
  }
}

const urls = new Map<string, string>();
/** Counts the sign-outs (`forgetPhotos`): a round that began before one keeps nothing and fetches no more. */
let generation = 0;

/** Drop every photo this phone keeps, the caches and their object URLs: at sign-out, so a phone handed on to
 *  another user holds none of the last one's shops' photos (its sign-in would drop them only at its first round). */
export async function forgetPhotos(): Promise<void> {
  for (const url of urls.values()) URL.revokeObjectURL(url);
  urls.clear();
  kept = null;
  next = null; // the last user's photos, asked for while a round ran
  generation += 1;
  try {
    if (typeof caches !== 'undefined') await dropCaches(null);
  } catch {
    // storage disabled: nothing was kept
  }
}

/** An object URL for a photo: from the cache, else from this device's own photos or the server (../events). */
export async function thumbUrl(id: string): Promise<string | null> {
  const known = urls.get(id);
  if (known) return known;
  const cache = await openCache();
  const hit = await cache?.match(photoPath(id)).catch(() => undefined);
  if (hit) {
    const url = URL.createObjectURL(await hit.blob());
    urls.set(id, url);
    return url;
  }
  return photoUrl(id);
}

/** Forget what this phone holds of the photo `id` for its thumbnail, which did not decode (no picture after all): its
 *  object URL, and its copy kept for the offline day. The next try reads or fetches it anew. */
export async function forgetThumb(id: string): Promise<void> {
  const url = urls.get(id);
  if (url !== undefined) {
    urls.delete(id);
    URL.revokeObjectURL(url);
  }
  forgetPhotoUrl(id);
  kept = null; // the next round fetches it again
  const cache = await openCache();
  await cache?.delete(photoPath(id)).catch(() => false);
}

let running = false;
let next: string[] | null = null; // asked for while a round ran: the round after it
/** The cache and photos of the last round that kept every one of them: the list asks on each redraw (every batch of
 *  a first download), and a round looks up each of up to 300 photos in the cache even when nothing changed. */
let kept: string | null = null;

/**
 * Fetch the photos `ids` into the cache (one at a time, so the text sync keeps the bandwidth), and drop cached
 * photos no longer wanted (a shop patrolled, a hazard closed). Does nothing offline. Asked while a round runs, it
 * runs again with the latest `ids` once that round ends: the first download of a grid's shops comes in pieces, and
 * a round started on the first piece must not be the last (the photos of the shops that came later were never kept
 * for the offline day).
 */
export async function keepPhotos(ids: string[]): Promise<void> {
  if (running) {
    next = ids;
    return;
  }
  const session = currentSession();
  if (!session || !navigator.onLine) return;
  const round = `${cacheName()}\n${ids.slice(0, MAX_CACHED).join('\n')}`;
  if (round === kept) return;
  running = true; // before the first await: two calls in one turn make one round, then another
  const began = generation;
  let complete = false;
  try {
    const cache = await openCache();
    if (!cache) return;
    await dropCaches(cacheName());
    const wanted = new Map(ids.slice(0, MAX_CACHED).map((id) => [photoPath(id), id]));
    for (const request of await cache.keys()) {
      if (!wanted.has(new URL(request.url).pathname)) await cache.delete(request);
    }
    complete = true;
    for (const [path, id] of wanted) {
      // Offline, or signed out meanwhile: the sign-out dropped this cache, and the token is no longer the user's.
      if (!navigator.onLine || began !== generation) {
        complete = false;
        break;
      }
      if (await cache.match(path)) continue;
      try {
        const answer = await fetchPhoto(id, session.token);
        if ('blob' in answer) {
          await cache.put(path, new Response(answer.blob, { headers: { 'content-type': answer.blob.type } }));
        } else {
          complete = false; // not there (yet), or no picture: asked again next time
        }
      } catch {
        complete = false;
        break; // the signal dropped, or stalled: try again next time
      }
    }
  } finally {
    // A round a sign-out overtook kept nothing: the same user signing in again has every photo fetched anew.
    kept = complete && began === generation ? round : null;
    running = false;
    const wanted = next;
    next = null;
    if (wanted) await keepPhotos(wanted);
  }
}
