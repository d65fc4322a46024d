// How long photos stay on the phone. A photo the server has is kept KEEP_PHOTO_DAYS days (the e-file, the patrol's
// comparisons and the owner's history show it offline), then the phone forgets it: a cheap phone would otherwise
// fill up with months of photos. PouchDB forgets a document only with a deletion, which would replicate and delete
// the server's copy too, so photos are forgotten a whole database at a time: new photos go into the current
// database; once its oldest photo is RETIRE_AFTER_DAYS old and nothing in it waits for the server, it is retired
// (kept, read-only, and replaced by an empty one), and a retired database is destroyed once its newest photo is
// KEEP_PHOTO_DAYS old. Nothing is ever copied. A photo the server refused was never uploaded: its database is kept
// until the user has seen the refusal (and could export it), whatever its age. Pure, for the tests; ./db does the
// work.
import { ulidTime } from './ulid';

export const KEEP_PHOTO_DAYS = 30;
export const RETIRE_AFTER_DAYS = 7;
const DAY_MS = 86_400_000;

/** A retired photos database: its name, the time of its newest photo, how many it holds. */
export interface Retired {
  name: string;
  newest: number;
  count: number;
}

/** When a photo `{shop}:photo:{ulid}` was taken, from its id; null for anything else. */
export function photoTime(id: string): number | null {
  const match = /:photo:([0-9A-HJKMNP-TV-Z]{26})$/.exec(id);
  return match ? ulidTime(match[1] ?? '') : null;
}

function times(ids: string[]): number[] {
  return ids.map(photoTime).filter((t): t is number => t !== null);
}

/** Whether the current database, holding `ids`, is due to retire: its oldest photo is old enough and none of
 *  its photos waits for the server (`waiting`). */
export function dueToRetire(ids: string[], waiting: number, now: number): boolean {
  const taken = times(ids);
  return waiting === 0 && taken.length > 0 && Math.min(...taken) < now - RETIRE_AFTER_DAYS * DAY_MS;
}

/** The record of the current database, holding `ids`, as it retires. */
export function retire(name: string, ids: string[]): Retired {
  return { name, newest: Math.max(0, ...times(ids)), count: ids.length };
}

/** The retired databases whose newest photo is older than KEEP_PHOTO_DAYS: to destroy, except those `holding` a
 *  refused photo the user has not seen yet (by name). */
export function expired(retired: Retired[], now: number, holding: ReadonlySet<string> = new Set()): Retired[] {
  return retired.filter((r) => r.newest < now - KEEP_PHOTO_DAYS * DAY_MS && !holding.has(r.name));
}
