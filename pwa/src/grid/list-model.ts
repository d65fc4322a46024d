// What the grid worker's list shows (what is due at each shop, the most urgent first, and the owners' photos to keep
// for an offline day), from what it keeps of each shop (its facts, true on any day) and saves on the phone with the
// database's sequence they are true at. Reading every document of a city grid takes seconds on a cheap phone. So
// opening the list again (the morning's first opening, a reload, the browser killed the tab while the worker was away)
// shows the saved list when nothing was written since; and once shown, a few changes (the patrol just submitted)
// re-read only their shops. Tested in tests/grid-list-model.test.ts.
import { byUrgency, dueOn, latestPhotos, photosToPatrol, shopFacts, verifyPhotos, withoutRefused, type Due, type ShopFacts, type ShopFile } from './due';
import { NO_DISTRICT, type District } from './rules';

/** One shop's part of the list, true on any day. */
export interface ShopEntry {
  facts: ShopFacts;
  /** `latestPhotos` of the shop. */
  photos: string[];
  /** `verifyPhotos` of the shop. */
  fixPhotos: string[];
}

export interface ListModel {
  /** Every shop's dues, the most urgent first (`dueList` without a query). */
  dues: Due[];
  /** `photosToKeep` of the same shops. */
  photos: string[];
}

/** Worked out again only for a file that changed (the files of shops nothing changed at are the same objects from one
 *  read to the next, ./shop-files), or when the district's rules or templates did (a patrol's alarm depends on them). */
const entries = new WeakMap<ShopFile, { district: string; entry: ShopEntry }>();

export function shopEntry(file: ShopFile, district: District = NO_DISTRICT): ShopEntry {
  const known = entries.get(file);
  if (known?.district === district.key) return known.entry;
  const entry = { facts: shopFacts(file, district), photos: latestPhotos(file), fixPhotos: verifyPhotos(file) };
  entries.set(file, { district: district.key, entry });
  return entry;
}

/** The list of these shops on the day of `now`: what `dueList` and `photosToKeep` of their files give. */
export function compose(shops: Iterable<ShopEntry>, now: Date): ListModel {
  const sorted = [...shops].map((s) => ({ due: dueOn(s.facts, now), photos: s.photos, fixPhotos: s.fixPhotos })).sort((a, b) => byUrgency(a.due, b.due));
  return { dues: sorted.map((s) => s.due), photos: photosToPatrol(sorted) };
}

/** The shops not in `outside` (moved to another grid). */
export function withoutShops(shops: readonly ShopEntry[], outside: ReadonlySet<string>): ShopEntry[] {
  return outside.size === 0 ? [...shops] : shops.filter((s) => !outside.has(s.facts.code));
}

/** What the list was worked out for: the user, the ids the server refused (../due withoutRefused), and the district's
 *  rules and templates (../data loadDistrict) its alarms to come are worked out by. */
export interface ModelKey {
  user: string;
  refused: ReadonlySet<string>;
  district: District;
}

/** The calls of the local database the saved list needs. A `_local` document: it never replicates, and it goes with
 *  the database (a sign-out that removes the data removes it too). */
export interface ModelStore {
  get(id: string): Promise<unknown>;
  put(doc: { _id: string; _rev?: string; [field: string]: unknown }): Promise<unknown>;
  info(): Promise<{ update_seq: number | string }>;
}

/** Where the list's data comes from (./data, the local database). */
export interface ListSource {
  /** Every shop file (./data loadShopFiles). */
  files(): Promise<Map<string, ShopFile>>;
  /** The sequence the files answered last are true at, or null while they are not in memory. */
  filesAt(): number | string | null;
  /** The shops with a change after `seq`, and the sequence that read reached. */
  changedSince(seq: number | string): Promise<{ shops: Set<string>; seq: number | string }>;
  /** One shop's file, read from its partition. */
  file(code: string): Promise<ShopFile | null>;
  store: ModelStore;
}

export const SAVED_ID = '_local/grid-list';
/** The shape of what is saved (`ShopEntry`, ../due `ShopFacts`): a release that changes it ignores older saves. */
const SAVED_VERSION = 5; // 2: a shop's `opened` day; 3: `fixPhotos`, and a fix passed here no longer counts open;
// 4: `pendingAlarms`, and the district it was worked out by; 5: `pendingAlarms` with those a hazard awaits (../due)
/** More shops changed than this since the list was worked out: read every document instead of shop by shop. */
export const FEW_SHOPS = 20;

interface Saved {
  _rev?: string;
  version: number;
  user: string;
  refused: string;
  /** The `key` of the district the shops were worked out by. */
  district: string;
  seq: number | string;
  shops: Record<string, ShopEntry>;
}

function refusedKey(refused: ReadonlySet<string>): string {
  return [...refused].sort().join('\n');
}

function shopOf(id: string): string {
  return id.split(':')[0] ?? '';
}

export class ListData {
  private shops: Map<string, ShopEntry> | null = null;
  /** The database's sequence `shops` is true at, and what it was worked out for. */
  private at: number | string | null = null;
  private key: ModelKey | null = null;
  /** The database `shops` comes from: another one (signed out and in) starts afresh. */
  private db: ModelStore | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly source: ListSource) {}

  /** The shops saved for `key`, when the database has not changed since they were saved (null otherwise). */
  async open(key: ModelKey): Promise<ShopEntry[] | null> {
    if (this.shops && this.db === this.source.store) return null; // in memory: brought up to date by `refresh`
    let found: Saved;
    try {
      found = (await this.source.store.get(SAVED_ID)) as Saved;
    } catch {
      return null; // never saved
    }
    if (found.version !== SAVED_VERSION || found.user !== key.user || found.refused !== refusedKey(key.refused)) return null;
    if (found.district !== key.district.key) return null; // the office published rules or a checklist since
    if (!found.shops || typeof found.shops !== 'object') return null;
    const { update_seq: seq } = await this.source.store.info();
    if (String(seq) !== String(found.seq) || (this.shops && this.db === this.source.store)) return null; // read meanwhile
    this.shops = new Map(Object.entries(found.shops));
    this.at = found.seq;
    this.key = key;
    this.db = this.source.store;
    return [...this.shops.values()];
  }

  /** The shops as the database holds them now, for `key`. One at a time: a later one starts from what the earlier
   *  one read. */
  refresh(key: ModelKey): Promise<ShopEntry[]> {
    const next = this.running.then(() => this.bringUpToDate(key));
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Save the list for the next opening. A failure (the storage full) only costs that opening its quick start. */
  async save(): Promise<void> {
    const { shops, at, key } = this;
    if (!shops || at === null || !key || this.db !== this.source.store) return;
    try {
      let rev: string | undefined;
      try {
        rev = ((await this.source.store.get(SAVED_ID)) as Saved)._rev;
      } catch {
        rev = undefined; // the first time
      }
      const doc: Saved = {
        version: SAVED_VERSION,
        user: key.user,
        refused: refusedKey(key.refused),
        district: key.district.key,
        seq: at,
        shops: Object.fromEntries(shops),
      };
      await this.source.store.put({ _id: SAVED_ID, ...(rev ? { _rev: rev } : {}), ...doc });
    } catch {
      // the next opening reads every document
    }
  }

  private async bringUpToDate(key: ModelKey): Promise<ShopEntry[]> {
    const patched = await this.patch(key);
    if (patched) return patched;
    const db = this.source.store;
    const files = await this.source.files();
    this.shops = new Map([...files].map(([code, file]) => [code, shopEntry(withoutRefused(file, key.refused), key.district)]));
    this.at = this.source.filesAt();
    this.key = key;
    this.db = db;
    return [...this.shops.values()];
  }

  /** Shop by shop, when the list is known (saved) but the files are not in memory and few shops changed. */
  private async patch(key: ModelKey): Promise<ShopEntry[] | null> {
    const { shops, at, key: was } = this;
    if (!shops || at === null || !was || this.db !== this.source.store || this.source.filesAt() !== null) return null;
    if (was.user !== key.user || was.district.key !== key.district.key) return null; // every shop's alarms to come
    const { shops: changed, seq } = await this.source.changedSince(at);
    // A refusal since (or one dismissed and gone from the list) changes what counts at its shop.
    for (const id of key.refused) if (!was.refused.has(id)) changed.add(shopOf(id));
    for (const id of was.refused) if (!key.refused.has(id)) changed.add(shopOf(id));
    if (changed.size > FEW_SHOPS) return null;
    for (const code of changed) {
      const file = await this.source.file(code);
      if (file) shops.set(code, shopEntry(withoutRefused(file, key.refused), key.district));
      else shops.delete(code);
    }
    this.at = seq;
    this.key = key;
    return [...shops.values()];
  }
}
