// The grid worker's shop files, kept in memory while the app runs. A city grid's phone holds ~13,000 documents;
// reading them all on every redraw of the list (each batch of the first download, every return from a shop) took
// seconds on a cheap phone and made the first download quadratic. They are read once, from the changes feed
// (PouchDB's quickest bulk read), and then only the changes since, shop by shop. Tested in
// tests/grid-shop-files.test.ts with a fake changes feed.
import type { Doc } from './docs';
import { splitId } from './docs';
import { groupByShop, type ShopFile } from './due';

/** The one call of a PouchDB database the cache makes. */
export interface ChangesSource {
  changes(options: { since: number | string; include_docs: true }): Promise<{
    results: { id: string; seq: number | string; deleted?: boolean; doc?: unknown }[];
    last_seq?: number | string;
  }>;
}

export class ShopFileCache {
  private seq: number | string = 0;

  /** The database's sequence the last read caught up to: the files `read` answered are the database's then. */
  get at(): number | string {
    return this.seq;
  }
  /** The documents of the wanted types, by shop then id. */
  private readonly docs = new Map<string, Map<string, Doc>>();
  private readonly files = new Map<string, ShopFile>();
  /** Shops whose documents changed since their file was built. */
  private readonly dirty = new Set<string>();
  /** The read running now: reads never overlap, so an older answer never lands after a newer one. */
  private reading: Promise<void> = Promise.resolve();

  constructor(
    readonly source: ChangesSource,
    /** The `{shop}:{type}:{key}` types kept (the second part of the id, and the document's `type`). */
    private readonly types: ReadonlySet<string>,
  ) {}

  /** Every shop file (shops with a shop document), by code in code order, as the database holds them now. Files of
   *  shops nothing changed at are the same objects as the last answer's: treat them as read-only. */
  async read(): Promise<Map<string, ShopFile>> {
    const next = this.reading.then(() => this.catchUp());
    this.reading = next.catch(() => undefined); // a failed read leaves the seq: the next one reads the same changes
    await next;
    for (const code of this.dirty) {
      const docs = [...(this.docs.get(code)?.values() ?? [])];
      // In id order, as a read of the database gives them: documents of equal time keep the same order.
      docs.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
      const file = groupByShop(docs).get(code);
      if (file) this.files.set(code, file);
      else this.files.delete(code);
    }
    this.dirty.clear();
    return new Map([...this.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  private async catchUp(): Promise<void> {
    const res = await this.source.changes({ since: this.seq, include_docs: true });
    for (const change of res.results) {
      const [shop, type] = splitId(change.id);
      if (!this.types.has(type) || change.id.startsWith('_')) continue;
      const doc = change.doc as Doc | undefined;
      const kept = !change.deleted && !!doc && typeof doc.type === 'string' && this.types.has(doc.type);
      let docs = this.docs.get(shop);
      if (kept) {
        if (!docs) this.docs.set(shop, (docs = new Map()));
        docs.set(change.id, doc);
      } else if (!docs?.delete(change.id)) {
        continue; // a deletion of something never kept changes nothing
      }
      this.dirty.add(shop);
    }
    this.seq = res.last_seq ?? res.results.at(-1)?.seq ?? this.seq;
  }
}
