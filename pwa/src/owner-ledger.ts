// The owner's 积分明细: the shop's points ledger (`{shop}:ledger:{YYYY-MM}`, a document per month holding its
// entries, server/models/projections.py Ledger) in plain words, newest first. Pure, so it is unit-tested; owner.ts
// reads the documents.
import { t, type MessageKey } from './i18n';
import type { TemplateItem } from './items';
import { hazardItemLabel } from './owner-hazards';
import { addDays, isoWeekMonday } from './ulid';

/** The fields of a ledger entry the list shows; `_id` is its name, `{shop}:ledger:{source key}:{rule}`
 *  (`ledgerEntries`). */
export interface LedgerLike {
  _id: string;
  rule: string;
  points: number;
  /** The document or period it comes from: a hazard's id, a check's or patrol's id, `2026`, `2026-W48`. */
  source: string;
  day: string;
  note?: string;
}

/** A month's ledger document as the server writes it: its entries, each keyed by its source. */
export interface LedgerMonth {
  _id: string;
  shop: string;
  entries?: ReadonlyArray<Omit<LedgerLike, '_id'> & { key: string }>;
}

/** The entries of the shop's ledger documents, each named `{shop}:ledger:{key}:{rule}`. A document of the form
 *  before months (an entry a document, still on a phone until the server's deletions of them arrive) is its entry. */
export function ledgerEntries(docs: ReadonlyArray<LedgerMonth | LedgerLike>): LedgerLike[] {
  return docs.flatMap((doc): LedgerLike[] => {
    if (!('entries' in doc) || !Array.isArray(doc.entries)) return 'rule' in doc ? [doc] : [];
    return doc.entries.map(({ key, ...entry }) => ({ ...entry, _id: `${doc.shop}:ledger:${key}:${entry.rule}` }));
  });
}

/** The hazard fields that name a ledger entry about it. */
export interface LedgerHazard {
  item: string;
  self_reported?: boolean;
}

/** How many entries the list shows at first, and how many more each 查看更早的记录 adds. */
export const LEDGER_PAGE = 20;

/** The time part of a ULID (10 characters of Crockford base32, which sort as the milliseconds do). */
const ULID_TIME = /^[0-9A-HJKMNP-TV-Z]{10}/;

/** When in its day an entry took effect, as a string that sorts in time order: the time part of the ULID of the
 *  event behind it (the check or patrol, or the verification a refund follows: its `note`), or '' for the entries
 *  time itself gives, which count from 00:00 (the year's start, a missed week, a week overdue). The id alone does
 *  not order them: `2026:start` sorts after every ULID, and a refund is keyed by the hazard, found days before. */
function momentInDay(entry: LedgerLike): string {
  if (entry.rule === 'start' || entry.rule === 'missed_week' || entry.rule === 'overdue') return '';
  const key = entry._id.slice(entry._id.indexOf(':ledger:') + ':ledger:'.length, entry._id.lastIndexOf(':'));
  const verification = entry.rule === 'refund' ? entry.note?.split(':')[2] : undefined;
  return ULID_TIME.exec(verification ?? '')?.[0] ?? ULID_TIME.exec(key)?.[0] ?? '';
}

/** The entries newest first: by day, then (one day's several) by the moment they took effect, then by id. */
export function ledgerNewestFirst<T extends LedgerLike>(entries: readonly T[]): T[] {
  const keyed = entries.map((entry) => ({ entry, sort: [entry.day, momentInDay(entry), entry._id] }));
  keyed.sort((a, b) => {
    for (let i = 0; i < a.sort.length; i++) {
      if (a.sort[i] !== b.sort[i]) return a.sort[i]! < b.sort[i]! ? 1 : -1;
    }
    return 0;
  });
  return keyed.map((k) => k.entry);
}

/** `+2`, `-1`: what an entry did to the score. */
export function signedPoints(points: number): string {
  return points > 0 ? `+${points}` : String(points);
}

/** The days of the week a `missed_week` entry is for (its source, `2026-W47`), Monday to Sunday; null when its
 *  source names no week. The owner's and the office's ledgers say the week so. */
export function missedWeekDays(entry: Pick<LedgerLike, 'source'>): { from: string; to: string } | null {
  const week = /^(\d{4})-W(\d{2})$/.exec(entry.source);
  if (!week) return null;
  const from = isoWeekMonday(Number(week[1]), Number(week[2]));
  return { from, to: addDays(from, 6) };
}

/** Which started week past its deadline an `overdue` entry is for (its id,
 *  `{shop}:ledger:{hazard key}.w{n}:overdue`), or null when the id does not say. */
export function overdueWeek(entry: Pick<LedgerLike, '_id'>): string | null {
  return /\.w(\d+):overdue$/.exec(entry._id)?.[1] ?? null;
}

/** What an entry was for, in the owner's words; `hazards` by id (the hazard an entry's source names). */
export function ledgerWhat(
  entry: LedgerLike,
  hazards: ReadonlyMap<string, LedgerHazard>,
  items: ReadonlyMap<string, TemplateItem>,
): string {
  const hazard = hazards.get(entry.source);
  const itemId = hazard?.item ?? (entry.rule === 'hazard' || entry.rule === 'false_self_report' ? entry.note : undefined);
  const item = itemId ? hazardItemLabel(items, itemId) : '';
  switch (entry.rule) {
    case 'start':
    case 'self_check':
    case 'patrol_clean':
      return t(`owner.ledger.${entry.rule}` as MessageKey);
    case 'missed_week': {
      // The week by its days (2026-11-16 至 2026-11-22): an owner does not count ISO week numbers (第 47 周).
      const days = missedWeekDays(entry);
      return days ? t('owner.ledger.missed_week', days) : t('owner.ledger.missedWeekAny');
    }
    case 'hazard':
      return t(hazard?.self_reported ? 'owner.ledger.selfHazard' : 'owner.ledger.hazard', { item });
    case 'false_self_report':
    case 'refund':
      return t(`owner.ledger.${entry.rule}`, { item });
    case 'overdue': {
      return t('owner.ledger.overdue', { n: overdueWeek(entry) ?? '?', item });
    }
    default:
      return entry.rule;
  }
}
