// What the owner's home shows for one hazard: the server's hazard document, corrected by the rectifications this
// phone holds that the server has not reflected yet (written offline, or uploaded and not derived yet). Pure, so
// it is unit-tested; owner.ts reads the documents and the push ledger.
import { getLang, t } from './i18n';
import { hazardAnswer, type TemplateItem } from './items';

/** A patrol finding about something no template item covers (server/models/templates.py OTHER_ITEM). */
export const OTHER_ITEM = 'other';

/** The name of a hazard's (or alarm's) item in the current language: `other` and unknown ids get a fallback. */
export function hazardItemLabel(items: ReadonlyMap<string, TemplateItem>, id: string): string {
  const item = items.get(id);
  if (item) return hazardNamed(item);
  return id === OTHER_ITEM ? t('item.other') : id;
}

/** A hazard named by its item's question and the answer that made it one: 灭火器是否在有效期内：否 (the question
 *  alone read as if the hazard were the question). */
export function hazardNamed(item: TemplateItem): string {
  const label = getLang() === 'en' ? item.label_en : item.label_zh;
  const hazard = hazardAnswer(item);
  const answer = 'equals' in hazard ? t(hazard.equals ? 'check.yes' : 'check.no') : t('hazard.more', { n: hazard.more });
  return t('hazard.named', { label, answer });
}

/** The fields of a `{shop}:hazard:{key}` document this decision needs. */
export interface HazardLike {
  _id: string;
  status: 'open' | 'rectified' | 'closed' | 'overdue';
  rectifications?: readonly string[];
  aliases?: readonly string[];
}

/**
 * Whether a rectification or verification naming `id` is about `hazard`: its own id, or one of its `aliases`, the ids
 * of later findings the server merged into it (found again while it was unresolved). A phone may have shown such a
 * finding as its own hazard, and fixed or verified it, before the server merged the two.
 */
export function namesHazard(hazard: Pick<HazardLike, '_id' | 'aliases'>, id: string): boolean {
  return id === hazard._id || (hazard.aliases ?? []).includes(id);
}

/** A `{shop}:rectification:{ulid}` event on the phone. */
export interface RectificationLike {
  _id: string;
  hazard: string;
  type?: string;
}

/**
 * - `fix`: the owner can (and should) rectify it: the rectify button shows.
 * - `unsent`: a rectification is on the phone, not uploaded yet.
 * - `sent`: a rectification was uploaded, the server has not derived it yet.
 * - `rectified`: the server lists a rectification waiting for the grid worker's verification.
 * - `closed`: verified; nothing left to do.
 */
export type HazardShown = 'fix' | 'unsent' | 'sent' | 'rectified' | 'closed';

/** The phone's rectifications of `hazardId` the server's hazard document does not list yet (refused ones aside). */
export function pendingRectifications(
  hazardId: string,
  hazard: HazardLike | null,
  local: readonly RectificationLike[],
  refused: ReadonlySet<string> = new Set(),
): RectificationLike[] {
  const known = new Set(hazard?.rectifications ?? []);
  const about = hazard ?? { _id: hazardId };
  return local.filter(
    (r) =>
      (r.type === undefined || r.type === 'rectification') && namesHazard(about, r.hazard) && !known.has(r._id) && !refused.has(r._id),
  );
}

/**
 * The state shown for `hazardId`: `hazard` is the server's document (null when the phone does not have it), `local`
 * the phone's rectification events (any hazard), `unsent` the ids of this phone's documents not acknowledged by the
 * server yet, `refused` the ids the server refused (those never count: the owner must rectify again).
 */
export function hazardShown(
  hazardId: string,
  hazard: HazardLike | null,
  local: readonly RectificationLike[],
  unsent: ReadonlySet<string> = new Set(),
  refused: ReadonlySet<string> = new Set(),
): HazardShown {
  if (hazard?.status === 'closed') return 'closed';
  const pending = pendingRectifications(hazardId, hazard, local, refused);
  if (pending.some((r) => unsent.has(r._id))) return 'unsent';
  if (pending.length) return 'sent';
  if (hazard?.status === 'rectified') return 'rectified';
  return 'fix';
}
