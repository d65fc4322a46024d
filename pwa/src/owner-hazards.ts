// What the owner's home shows for one hazard: the server's hazard document, corrected by the rectifications this
// phone holds that the server has not reflected yet (written offline, or uploaded and not derived yet). Pure, so
// it is unit-tested; owner.ts reads the documents and the push ledger.
import { getLang, t } from './i18n';
import { hazardAnswer, type TemplateItem } from './items';
import { addDays, dayOf } from './ulid';

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
  performed_at?: string;
  photos?: readonly string[];
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
export function pendingRectifications<T extends RectificationLike>(
  hazardId: string,
  hazard: HazardLike | null,
  local: readonly T[],
  refused: ReadonlySet<string> = new Set(),
): T[] {
  const known = new Set(hazard?.rectifications ?? []);
  const about = hazard ?? { _id: hazardId };
  return local.filter(
    (r) =>
      (r.type === undefined || r.type === 'rectification') && namesHazard(about, r.hazard) && !known.has(r._id) && !refused.has(r._id),
  );
}

/**
 * The owner's latest fix of `hazard` on the phone (its own id's, an alias's, or one the server lists), refused ones
 * aside: what the home shows beside the hazard's photos while it waits for the grid worker, or once they failed it.
 */
export function latestFix<T extends RectificationLike>(
  hazard: Pick<HazardLike, '_id' | 'aliases' | 'rectifications'>,
  local: readonly T[],
  refused: ReadonlySet<string> = new Set(),
): T | null {
  const listed = new Set(hazard.rectifications ?? []);
  let latest: T | null = null;
  for (const r of local) {
    if ((r.type ?? 'rectification') !== 'rectification' || refused.has(r._id)) continue;
    if (!listed.has(r._id) && !namesHazard(hazard, r.hazard)) continue;
    if (!latest || eventTime(r) > eventTime(latest) || (eventTime(r) === eventTime(latest) && r._id > latest._id)) latest = r;
  }
  return latest;
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

/** One step of a hazard's `history` (server/models/projections.py HazardStep): the status it moved to, when, and the
 *  event that moved it (null for a deadline passing). */
export interface HazardStepLike {
  status: HazardLike['status'];
  at: string;
  event?: string | null;
}

/**
 * Whether the owner's home says a hazard is overdue (已逾期) on `today` (YYYY-MM-DD, Asia/Shanghai). A reported fix
 * stops the clock (server/validators/hazards.py `delay_end`): while a fix waits for the grid worker, at the server
 * (`rectified`) or on the phone (`sent`, `unsent`), the hazard is overdue only if that fix came after the deadline
 * (the server's history then holds an `overdue` step before it). `pendingFixAt` is the phone's waiting fix's time.
 */
export function shownOverdue(
  hazard: { status: HazardLike['status']; deadline: string; history?: readonly HazardStepLike[] },
  state: HazardShown,
  today: string,
  pendingFixAt?: string | null,
): boolean {
  switch (state) {
    case 'closed':
      return false;
    case 'fix':
      return hazard.status === 'overdue' || hazard.deadline < today;
    case 'rectified': {
      // The fix's step is dated with the moment the server credits it (an offline fix: when it was made).
      const fix = [...(hazard.history ?? [])].reverse().find((step) => step.status === 'rectified');
      return fix ? dayOf(fix.at) > hazard.deadline : false;
    }
    default:
      // The server may not have it yet (and may say overdue meanwhile): the fix on the phone decides.
      return pendingFixAt ? dayOf(pendingFixAt) > hazard.deadline : hazard.status === 'overdue';
  }
}

/** A `{shop}:verification:{ulid}` event on the phone: the grid worker's verdict on a hazard's fix. */
export interface VerificationLike {
  _id: string;
  type?: string;
  hazard: string;
  passed: boolean;
  note?: string;
  performed_at?: string;
}

function eventTime(doc: { _id: string; performed_at?: string }): number {
  const at = doc.performed_at ? Date.parse(doc.performed_at) : NaN;
  return Number.isFinite(at) ? at : 0;
}

/**
 * The grid worker's failed verification (不通过) the owner has not answered yet: the latest verdict on the hazard (or
 * on a finding the server merged into it, one of its `aliases`) failed, and the hazard is to fix again (`fix`: no
 * later rectification on the server or on the phone). Null otherwise.
 */
export function rejectedFix(
  hazard: Pick<HazardLike, '_id' | 'aliases'>,
  state: HazardShown,
  verifications: readonly VerificationLike[],
): VerificationLike | null {
  if (state !== 'fix') return null;
  let latest: VerificationLike | null = null;
  for (const v of verifications) {
    if ((v.type ?? 'verification') !== 'verification' || !namesHazard(hazard, v.hazard)) continue;
    if (!latest || eventTime(v) > eventTime(latest) || (eventTime(v) === eventTime(latest) && v._id > latest._id)) latest = v;
  }
  return latest && latest.passed === false ? latest : null;
}

/** The fields of a closed hazard the 已通过核查 list needs. */
export interface ClosedHazardLike extends HazardLike {
  deadline: string;
  cost?: number;
  closed_at?: string | null;
  history?: readonly HazardStepLike[];
}

/** The hazards closed (verified) in the `days` days up to `today`, the latest first. */
export function recentlyClosed<T extends ClosedHazardLike>(hazards: readonly T[], today: string, days = 14): T[] {
  const from = addDays(today, -days);
  return hazards
    .filter((hz) => hz.status === 'closed' && !!hz.closed_at && dayOf(hz.closed_at) >= from)
    .sort((a, b) => Date.parse(b.closed_at!) - Date.parse(a.closed_at!));
}

/**
 * The day the fix the grid worker accepted was made: the fix waiting when the hazard closed (its step is dated with
 * the moment the server credits it), or the verification itself when it was fixed on the spot
 * (server/validators/hazards.py `_fixed_at`). Null for a hazard that is not closed.
 */
export function fixedDay(hazard: Pick<ClosedHazardLike, 'history'>): string | null {
  let waiting: HazardStepLike | null = null;
  for (const step of hazard.history ?? []) {
    if (step.status === 'rectified') waiting = step;
    else if (step.status === 'closed') return dayOf((waiting ?? step).at);
    else waiting = null; // a failed verification sent it back
  }
  return null;
}

/** `percent` % of `points`, to the nearest whole point, halves away from zero (server/validators/rules.py share). */
export function share(points: number, percent: number): number {
  const whole = Math.floor((Math.abs(points) * percent) / 100);
  const rest = (Math.abs(points) * percent) % 100;
  const rounded = whole + (2 * rest >= 100 ? 1 : 0);
  return points >= 0 ? rounded : -rounded;
}

/** How many shops each of the red and black lists holds (server/validators/rules.py list_size): the share, at least
 *  the minimum, never more than half of the shops. */
export function listSize(shops: number, sharePercent: number, minShops: number): number {
  return Math.min(Math.max(share(shops, sharePercent), minShops), Math.floor(shops / 2));
}

/** The list a shop ranks within the places of but is not on: a list never splits shops tied on points and open
 *  hazards (server/validators/ranking.py), so a shop tied with the first one past the cut is left off. The owner saw
 *  "排名 10/30" and no 红榜 chip with no word of why. Null when the shop is on a list or ranks outside them. */
export function tiedOffList(
  score: { rank?: number | null; of?: number | null; list?: string | null },
  rules: { list_share_percent?: number; list_min_shops?: number } | null,
): 'red' | 'black' | null {
  const { rank, of } = score;
  if (score.list || !rank || !of || !rules) return null;
  const size = listSize(of, rules.list_share_percent ?? 5, rules.list_min_shops ?? 10);
  if (rank <= size) return 'red';
  if (rank > of - size) return 'black';
  return null;
}

/**
 * What a verified hazard gave back (SPEC: rectified and verified in time, half of its cost comes back): in time or
 * not, and the points. `ledgerPoints` is the server's `refund` ledger entry when the phone has it (exact, under the
 * rules the hazard was found under); otherwise the points are worked out with `refundPercent` (the rules' share).
 */
export function refundOf(
  hazard: Pick<ClosedHazardLike, 'deadline' | 'cost' | 'history'>,
  refundPercent = 50,
  ledgerPoints?: number | null,
): { inTime: boolean; points: number } {
  const fixed = fixedDay(hazard);
  const inTime = fixed !== null && fixed <= hazard.deadline;
  if (typeof ledgerPoints === 'number') return { inTime: inTime || ledgerPoints > 0, points: ledgerPoints };
  return { inTime, points: inTime ? share(hazard.cost ?? 0, refundPercent) : 0 };
}
