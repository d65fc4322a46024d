// Documents the grid worker's tests share.
import type { Doc, PatrolDoc, SelfCheckDoc, ShopDoc, TemplateDoc } from '../src/grid/docs';

/** A shop's registry document as the phone holds it. */
export function shop(code: string, extra: Partial<ShopDoc> = {}): ShopDoc {
  return {
    _id: `${code}:shop:${code}`,
    type: 'shop',
    code,
    name: `店${code}`,
    address: `划船巷${code.slice(1)}号`,
    category: 'retail',
    community: 'huachuan',
    grid: 'huachuan-01',
    status: 'active',
    owner_activated: true,
    ...extra,
  };
}

/**
 * The local database in memory, as much of PouchDB as the grid's reads use (`changes`, `allDocs`, `get`, `put`,
 * `info`), counting the documents each read hands back: what a redraw costs on a phone is the documents it reads.
 */
export class FakeLocalDb {
  private docs = new Map<string, { doc: Record<string, unknown>; seq: number; deleted: boolean }>();
  private local = new Map<string, Record<string, unknown>>();
  private seq = 0;
  /** Documents handed back by reads, since the counter was last reset. */
  docsRead = 0;
  /** The `since` of each `changes` read. */
  sinces: (number | string)[] = [];

  /** Documents (each with an `_id`) written, each at the next sequence. */
  write(...docs: object[]): void {
    for (const doc of docs as { _id: string }[]) {
      this.docs.set(doc._id, { doc: { ...doc, _rev: `${++this.seq}-x` }, seq: this.seq, deleted: false });
    }
  }

  remove(id: string): void {
    const known = this.docs.get(id);
    if (known) this.docs.set(id, { doc: { _id: id, _rev: `${++this.seq}-x`, _deleted: true }, seq: this.seq, deleted: true });
  }

  async changes(opts: { since?: number | string; include_docs?: boolean }) {
    const since = Number(opts.since ?? 0);
    this.sinces.push(opts.since ?? 0);
    const results = [...this.docs.entries()]
      .filter(([, d]) => d.seq > since)
      .sort(([, a], [, b]) => a.seq - b.seq)
      .map(([id, d]) => ({ id, seq: d.seq, changes: [{ rev: String(d.doc._rev) }], deleted: d.deleted || undefined, doc: d.doc }));
    this.docsRead += results.length;
    return { results, last_seq: results.at(-1)?.seq ?? since };
  }

  async allDocs(opts: { keys?: string[]; include_docs?: boolean; startkey?: string; endkey?: string } = {}) {
    const live = [...this.docs.entries()].filter(([, d]) => !d.deleted).sort(([a], [b]) => (a < b ? -1 : 1));
    const chosen = opts.keys
      ? opts.keys.flatMap((k) => live.filter(([id]) => id === k))
      : live.filter(([id]) => (opts.startkey === undefined || id >= opts.startkey) && (opts.endkey === undefined || id <= opts.endkey));
    if (opts.include_docs) this.docsRead += chosen.length;
    return { rows: chosen.map(([id, d]) => ({ id, key: id, value: { rev: String(d.doc._rev) }, ...(opts.include_docs ? { doc: d.doc } : {}) })) };
  }

  async get(id: string) {
    const found = id.startsWith('_local/') ? this.local.get(id) : this.docs.get(id)?.doc;
    if (!found) throw Object.assign(new Error('missing'), { status: 404 });
    if (!id.startsWith('_local/')) this.docsRead++;
    return found;
  }

  async put(doc: { _id: string; _rev?: string; [field: string]: unknown }) {
    if (!doc._id.startsWith('_local/')) throw new Error('only _local documents are put here');
    const before = this.local.get(doc._id);
    if (before && before._rev !== doc._rev) throw Object.assign(new Error('conflict'), { status: 409 });
    const rev = `0-${Number(String(before?._rev ?? '0-0').split('-')[1]) + 1}`;
    this.local.set(doc._id, { ...doc, _rev: rev });
    return { ok: true, id: doc._id, rev };
  }

  async info() {
    return { update_seq: this.seq };
  }
}

/** The IntersectionObserver a browser has: here the test says which thumbnails came near the screen. */
export class Screen {
  static seen: Screen[] = [];
  targets = new Set<Element>();
  constructor(private readonly callback: (entries: { target: Element; isIntersecting: boolean }[]) => void) {
    Screen.seen.push(this);
  }
  observe(el: Element): void {
    this.targets.add(el);
  }
  unobserve(el: Element): void {
    this.targets.delete(el);
  }
  disconnect(): void {
    this.targets.clear();
  }
  static scrollTo(els: Element[]): void {
    for (const screen of Screen.seen) screen.callback(els.filter((el) => screen.targets.has(el)).map((target) => ({ target, isIntersecting: true })));
  }
}

/** A patrol saved on this phone just now with a serious finding (open flame), which the server has not taken yet:
 *  its alarm is to come (../src/grid/due.ts `pendingAlarms`). */
export function seriousPatrol(code: string): PatrolDoc {
  return {
    _id: `${code}:patrol:01M7YN07V8XQJ7JEF02Y1DNS10`,
    type: 'patrol',
    shop: code,
    performed_at: new Date().toISOString(),
    created_by: 'grid:zhou01',
    device: 'd-1',
    template: 'district:template:fire-gas',
    template_version: 1,
    answers: {},
    findings: [{ id: 'open_flame', item: 'open_flame', severity: 'serious', deadline: '2099-12-31' }],
  };
}

/** The `n`-th of a year of weekly self-checks at S0001, each with two photos. */
export function selfCheck(n: number): Doc {
  const key = `01M7YN07V8XQJ7JEF02Y1D${String(n).padStart(4, '0')}`;
  return {
    _id: `S0001:self_check:${key}`,
    type: 'self_check',
    shop: 'S0001',
    template: 'district:template:fire-gas',
    template_version: 1,
    performed_at: `2026-${String(1 + Math.floor(n / 5)).padStart(2, '0')}-${String(1 + (n % 5) * 5).padStart(2, '0')}T10:00:00+08:00`,
    answers: {
      extinguisher_valid: { value: true, photos: [`S0001:photo:${key}a`] },
      gas_safe: { value: true, photos: [`S0001:photo:${key}b`] },
    },
  } as unknown as Doc;
}

/** S0001's owner's latest self-check with every item of `template` in order (0 people sleeping in the shop, "no" where
 *  "yes" is the hazard, else "yes"), with a photo for each item that asks for one when `photos`: a patrol prefilled. */
export function selfCheckInOrder(template: TemplateDoc, photos = false): SelfCheckDoc {
  return {
    _id: 'S0001:self_check:01M7YN07V8XQJ7JEF02Y1DNSC1',
    type: 'self_check',
    shop: 'S0001',
    performed_at: '2026-11-02T10:00:00+08:00',
    created_by: 'owner:S0001',
    device: 'd-2',
    template: template._id,
    template_version: 1,
    answers: Object.fromEntries(
      template.items.map((i) => [
        i.id,
        {
          value: 'gt' in i.hazard_when ? 0 : !i.hazard_when.equals,
          ...(photos && i.photo_required ? { photos: [`S0001:photo:${i.id}`] } : {}),
        },
      ]),
    ),
  };
}
