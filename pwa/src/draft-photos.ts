// Photos of forms not sent yet. A photo is kept on the phone alone (its own database, never replicated) while its
// form is a draft, and moves to the photos database, which uploads, only when the form is sent: a check the owner
// started and abandoned costs no upload on a poor signal and leaves no orphan photo on the server, and nothing counts
// as 待上传 that the user has not sent.
import { draftPhotosDb, putPhoto, type LocalDb } from './db';
import { draftsMention } from './drafts';

/** A photo no draft mentions is kept this long (a draft is saved a moment after the photo is taken). */
export const ORPHAN_GRACE_MS = 24 * 3600_000;

const PHOTO_ID = /^[^:\s]+:photo:[0-9A-HJKMNP-TV-Z]{26}$/;

/** The photo ids anywhere in `value` (an event's answers, findings, rectification or verification photos). */
export function photoIdsIn(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    if (PHOTO_ID.test(value)) into.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) photoIdsIn(v, into);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) photoIdsIn(v, into);
  }
  return into;
}

/** Of the held photos, those no draft mentions and older than the grace: their form was given up (a verification
 *  keeps no draft) or they were left out of it (a finding removed from a patrol). */
export function orphans(
  held: readonly { id: string; taken: number }[],
  mentioned: (id: string) => boolean,
  now: number,
  graceMs: number = ORPHAN_GRACE_MS,
): string[] {
  return held.filter((p) => now - p.taken >= graceMs && !mentioned(p.id)).map((p) => p.id);
}

/** Keep a photo just taken with its draft. */
export async function holdPhoto(doc: PouchDB.Core.PutDocument<Record<string, unknown>>): Promise<void> {
  await draftPhotosDb().put(doc);
}

function isStatus(err: unknown, status: number): boolean {
  return (err as { status?: number } | null)?.status === status;
}

/**
 * The form is being sent: move the photos it refers to from the drafts to the photos database (before its events
 * are written, so an event never goes up without its photos following). A photo already moved, or not a draft's,
 * is left as it is. Throws when the phone cannot store them (its storage full): the form stays a draft.
 */
export async function releasePhotos(ids: Iterable<string>): Promise<void> {
  const drafts = draftPhotosDb();
  for (const id of ids) {
    let doc: PouchDB.Core.ExistingDocument<Record<string, unknown>>;
    try {
      doc = await drafts.get(id, { attachments: true, binary: true });
    } catch (err) {
      if (isStatus(err, 404)) continue;
      throw err;
    }
    const { _rev: rev, ...fresh } = doc;
    try {
      await putPhoto(fresh);
    } catch (err) {
      if (!isStatus(err, 409)) throw err; // 409: moved already, by a send that stopped before removing it here
    }
    await drafts.remove(id, rev);
  }
}

async function remove(drafts: LocalDb, rows: { id: string; value: { rev: string } }[], ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const revs = new Map(rows.map((r) => [r.id, r.value.rev]));
  await drafts.bulkDocs(ids.map((id) => ({ _id: id, _rev: revs.get(id) ?? '', _deleted: true })));
  return ids.length;
}

/** Remove the held photos no draft mentions any more and older than `graceMs` (forms left without a draft, such
 *  as a verification, keep theirs that long); how many went. */
export async function sweepDraftPhotos(now: number = Date.now(), graceMs: number = ORPHAN_GRACE_MS): Promise<number> {
  const drafts = draftPhotosDb();
  const rows = (await drafts.allDocs({ include_docs: true })).rows;
  const held = rows.map((r) => ({ id: r.id, taken: Date.parse(String((r.doc as { taken_at?: string })?.taken_at ?? '')) || 0 }));
  return remove(drafts, rows, orphans(held, draftsMention, now, graceMs));
}

/** A draft was discarded: remove the photos it named that no other draft names. Only those: a form open elsewhere
 *  (another tab) holds photos no draft names yet. `draft` is read before the first await. */
export async function discardDraftPhotos(draft: unknown): Promise<number> {
  const named = photoIdsIn(draft);
  if (named.size === 0) return 0;
  const drafts = draftPhotosDb();
  const rows = (await drafts.allDocs()).rows.filter((r) => named.has(r.id));
  return remove(drafts, rows, rows.map((r) => r.id).filter((id) => !draftsMention(id)));
}

/** The user took a held photo out of a form: `saveDraft` stores the form's draft without it, then the photo leaves
 *  the phone. A photo already sent (not held) stays, and so does one another draft still names. */
export async function removeFormPhoto(id: string, saveDraft: () => void = () => undefined): Promise<number> {
  saveDraft();
  return discardDraftPhotos(id);
}
