// The grid list worked out shop by shop and saved with the database's sequence: the same list as working it out from
// every file, and opened again (or brought up to date after a patrol) without reading every document.
import { describe, expect, it } from 'vitest';
import type { Doc, Finding, PatrolDoc, RulesVersion, SelfCheckDoc } from '../src/grid/docs';
import { dueList, groupByShop, photosToKeep, type ShopFile } from '../src/grid/due';
import { compose, FEW_SHOPS, ListData, SAVED_ID, shopEntry, withoutShops, type ListSource, type ModelKey } from '../src/grid/list-model';
import { NO_DISTRICT } from '../src/grid/rules';
import { FakeLocalDb, shop } from './grid-fixtures';
import rulesJson from '../../server/models/data/rules.json?raw';

// Saturday 2026-11-28, 10:00 in Shanghai.
const NOW = new Date('2026-11-28T02:00:00Z');

function check(code: string, n: number, template: string, day: string, photos: string[]): SelfCheckDoc {
  return {
    _id: `${code}:self_check:01M7YN07V8XQJ7JEF02Y1D${String(n).padStart(4, '0')}`,
    type: 'self_check',
    shop: code,
    template,
    template_version: 1,
    performed_at: `${day}T10:00:00+08:00`,
    created_by: `owner:${code}`,
    device: 'd',
    answers: { gas_safe: { value: true, photos } },
  };
}

function patrol(code: string, n: number, day: string): PatrolDoc {
  return {
    _id: `${code}:patrol:01M7YN07V8XQJ7JEF02Y1D${String(n).padStart(4, '0')}`,
    type: 'patrol',
    shop: code,
    template: 'district:template:fire-gas',
    template_version: 1,
    performed_at: `${day}T10:00:00+08:00`,
    created_by: 'grid:zhou01',
    device: 'd',
    answers: {},
    findings: [],
  };
}

/** 30 shops: some patrolled this month, one closed, photos in two checklist modules, scores that tie. */
function docs(): Doc[] {
  const all: Doc[] = [];
  for (let s = 1; s <= 30; s++) {
    const code = `S${String(s).padStart(4, '0')}`;
    all.push(shop(code, s === 7 ? { status: 'closed' } : {}));
    all.push({ _id: `${code}:score`, type: 'score', shop: code, points: 90 + (s % 4), open_hazards: 0 } as Doc);
    all.push(check(code, 1, 'district:template:fire-gas', '2026-11-02', [`${code}:photo:old`]));
    all.push(check(code, 2, 'district:template:fire-gas', '2026-11-20', [`${code}:photo:new`, `${code}:photo:new`]));
    if (s % 3 === 0) all.push(check(code, 3, 'district:template:food', '2026-11-21', [`${code}:photo:food`]));
    if (s % 2 === 0) all.push(patrol(code, 4, s % 4 === 0 ? '2026-11-05' : '2026-10-05'));
  }
  return all;
}

const key = (extra: Partial<ModelKey> = {}): ModelKey => ({ user: 'grid:zhou01', refused: new Set(), district: NO_DISTRICT, ...extra });

describe('the list worked out shop by shop', () => {
  it('is the list worked out from every file: dues in order, and the photos to keep', () => {
    const files = [...groupByShop(docs()).values()];
    const shops = files.map((f) => shopEntry(f));
    const model = compose(shops, NOW);
    expect(model.dues).toEqual(dueList(files, NOW));
    expect(model.photos).toEqual(photosToKeep(files, NOW));
    expect(model.photos).toContain('S0003:photo:food');
    expect(model.photos).not.toContain('S0001:photo:old');
    // Without the shops moved to another grid: the list of the other files.
    const outside = new Set(['S0001', 'S0003']);
    const rest = files.filter((f) => !outside.has(f.shop.code));
    expect(compose(withoutShops(shops, outside), NOW)).toEqual({ dues: dueList(rest, NOW), photos: photosToKeep(rest, NOW) });
    // What a shop's entry keeps is true on any day: a new week, a new month, deadlines passed.
    for (const day of ['2026-11-30T02:00:00Z', '2026-12-01T02:00:00Z', '2027-01-15T02:00:00Z']) {
      const later = new Date(day);
      expect(compose(shops, later)).toEqual({ dues: dueList(files, later), photos: photosToKeep(files, later) });
    }
  });
});

/** The local database in memory (the one `db` answers: another after a sign-out), and what the list asks of it. */
function source(db: () => FakeLocalDb): ListSource & { calls: { files: number; file: string[] } } {
  let cached: { db: FakeLocalDb; seq: number } | null = null;
  const calls = { files: 0, file: [] as string[] };
  const current = async (): Promise<Map<string, ShopFile>> => {
    const { rows } = await db().allDocs({ include_docs: true });
    return groupByShop(rows.map((r) => r.doc as unknown as Doc));
  };
  return {
    calls,
    async files() {
      calls.files++;
      const found = await current();
      cached = { db: db(), seq: (await db().info()).update_seq };
      return found;
    },
    filesAt: () => (cached?.db === db() ? cached.seq : null),
    async changedSince(seq) {
      const { results, last_seq } = await db().changes({ since: seq });
      return { shops: new Set(results.map((r) => r.id.split(':')[0] ?? '')), seq: last_seq };
    },
    async file(code) {
      calls.file.push(code);
      return (await current()).get(code) ?? null;
    },
    get store() {
      return db();
    },
  };
}

describe('the saved list', () => {
  it('opens when the database is where it was saved, for the same user, day and refusals', async () => {
    const db = new FakeLocalDb();
    db.write(...docs());
    const first = new ListData(source(() => db));
    const shops = await first.refresh(key());
    await first.save();

    expect(await new ListData(source(() => db)).open(key())).toEqual(shops);
    expect(await new ListData(source(() => db)).open(key({ user: 'grid:li02' }))).toBeNull();
    expect(await new ListData(source(() => db)).open(key({ refused: new Set(['S0002:patrol:x']) }))).toBeNull();
    db.write({ _id: 'S0002:score', type: 'score', shop: 'S0002', points: 1, open_hazards: 0 });
    expect(await new ListData(source(() => db)).open(key())).toBeNull(); // written since
  });

  it('is worked out again when an older release saved it: its alarms missed those a hazard awaits', async () => {
    const db = new FakeLocalDb();
    db.write(...docs());
    const first = new ListData(source(() => db));
    await first.refresh(key());
    await first.save();
    // The release before the hazards named their alarms (version 4) worked out `pendingAlarms` without them: a shop
    // whose hazard names an alarm not yet on the phone showed no alarm on the list until the shop next changed.
    const saved = (await db.get(SAVED_ID)) as Record<string, unknown>;
    await db.put({ ...saved, _id: SAVED_ID, version: 4 });
    expect(await new ListData(source(() => db)).open(key())).toBeNull();
  });

  it('opened in the next month, marks the shops that missed the last one (逾期未巡查) as every file would', async () => {
    const db = new FakeLocalDb();
    db.write(...docs());
    const first = new ListData(source(() => db));
    await first.refresh(key());
    await first.save(); // on 28 November

    const opened = await new ListData(source(() => db)).open(key()); // on the 1st, nothing written since
    expect(opened).not.toBeNull();
    const FIRST = new Date('2026-12-01T02:00:00Z');
    const files = [...groupByShop(docs()).values()];
    const model = compose(opened ?? [], FIRST);
    expect(model).toEqual({ dues: dueList(files, FIRST), photos: photosToKeep(files, FIRST) });
    const overdue = (m: typeof model): string[] => m.dues.filter((d) => !d.closed && d.patrolOverdue).map((d) => d.code).sort();
    const codes = (keep: (s: number) => boolean): string[] =>
      Array.from({ length: 30 }, (_, i) => i + 1).filter((s) => s !== 7 && keep(s)).map((s) => `S${String(s).padStart(4, '0')}`);
    // On 28 November the shops never patrolled; on the 1st those patrolled in October too (November's was missed),
    // not those patrolled in November (this month's due, no more).
    expect(overdue(compose(opened ?? [], NOW))).toEqual(codes((s) => s % 2 === 1));
    expect(overdue(model)).toEqual(codes((s) => s % 4 !== 0));
    expect(model.dues.find((d) => d.code === 'S0004')).toMatchObject({ patrolDue: true, patrolOverdue: false });
    expect(model.dues.findIndex((d) => d.code === 'S0002')).toBeLessThan(model.dues.findIndex((d) => d.code === 'S0004'));
  });

  it('opened, follows a few changes by reading only their shops', async () => {
    const db = new FakeLocalDb();
    db.write(...docs());
    const first = new ListData(source(() => db));
    await first.refresh(key());
    await first.save();

    const phone = source(() => db); // a new page: the files are not in memory
    const list = new ListData(phone);
    await list.open(key());
    db.write(patrol('S0005', 9, '2026-11-28')); // the patrol just submitted
    const model = compose(await list.refresh(key()), NOW);
    expect(phone.calls).toEqual({ files: 0, file: ['S0005'] });
    const everything = [...groupByShop((await db.allDocs({ include_docs: true })).rows.map((r) => r.doc as unknown as Doc)).values()];
    expect(model.dues).toEqual(dueList(everything, NOW));
    expect(model.photos).toEqual(photosToKeep(everything, NOW));

    // A refusal since then changes what counts at its shop.
    const refused = key({ refused: new Set(['S0005:patrol:01M7YN07V8XQJ7JEF02Y1D0009']) });
    const without = compose(await list.refresh(refused), NOW);
    expect(phone.calls.file).toEqual(['S0005', 'S0005']);
    expect(without.dues.find((d) => d.code === 'S0005')?.patrolDue).toBe(true);
  });

  it('reads every document when many shops changed (a download) or on another database', async () => {
    const db = new FakeLocalDb();
    db.write(...docs());
    const first = new ListData(source(() => db));
    await first.refresh(key());
    await first.save();

    const phone = source(() => db);
    const list = new ListData(phone);
    await list.open(key());
    for (let s = 1; s <= FEW_SHOPS + 1; s++) {
      const code = `S${String(s).padStart(4, '0')}`;
      db.write({ _id: `${code}:score`, type: 'score', shop: code, points: 50, open_hazards: 0 });
    }
    await list.refresh(key());
    expect(phone.calls).toEqual({ files: 1, file: [] });

    await list.save();
    let now = db;
    const app = source(() => now);
    const kept = new ListData(app); // the list the app keeps while it runs
    await kept.open(key());
    now = new FakeLocalDb(); // signed out and in again: the same user's data downloaded afresh, at other sequences
    now.write(shop('S0099'));
    expect((await kept.refresh(key())).map((s) => s.facts.code)).toEqual(['S0099']);
    expect(app.calls).toEqual({ files: 1, file: [] });
  });
});

describe('the alarms patrols saved on this phone will raise', () => {
  const found = (item: string, severity: Finding['severity']): Finding => ({ id: item, item, severity, deadline: '2026-12-05' });
  const RULES = JSON.parse(rulesJson) as RulesVersion; // threshold 10
  const V1 = { key: 'district:rules@1-a', rules: [RULES], templates: [] };
  // The office publishes a new version of the rules, from 2026-11-01: an alarm from 7 points on.
  const V2 = { key: 'district:rules@2-b', rules: [{ ...RULES, version: 2, effective_from: '2026-11-01', alarm_threshold: 7 }], templates: [] };

  it('rank their shops with the alarms, follow the rules the office publishes, and give way to the server’s', async () => {
    const db = new FakeLocalDb();
    db.write(...docs());
    // Today, offline: a serious finding at S0020, a major and a general one (7 points) at S0021.
    db.write({ ...patrol('S0020', 9, '2026-11-28'), findings: [found('open_flame', 'serious')] });
    db.write({ ...patrol('S0021', 9, '2026-11-28'), findings: [found('escape_route', 'major'), found('wiring_ok', 'general')] });
    db.write({
      _id: 'S0010:alarm:01M7YN07V8XQJ7JEF02Y1D0001',
      type: 'alarm',
      shop: 'S0010',
      status: 'open',
      source: 'S0010:patrol:01M7YN07V8XQJ7JEF02Y1D0001',
      items: [],
      cost: 10,
      created_at: '2026-11-27T10:00:00+08:00',
    });
    const list = new ListData(source(() => db));
    const first = compose(await list.refresh(key({ district: V1 })), NOW);
    // With the alarms, above every shop without one (S0020's hazard too puts it first).
    expect(first.dues.slice(0, 2).map((d) => [d.code, d.openAlarms, d.pendingAlarms])).toEqual([
      ['S0020', 0, 1],
      ['S0010', 1, 0],
    ]);
    expect(first.dues.find((d) => d.code === 'S0021')).toMatchObject({ pendingAlarms: 0, openHazards: 2 });
    await list.save();

    // The new rules reach the phone: the saved list is not opened, and one in memory works every shop out again.
    expect(await new ListData(source(() => db)).open(key({ district: V2 }))).toBeNull();
    const phone = source(() => db);
    const reopened = new ListData(phone);
    expect(await reopened.open(key({ district: V1 }))).not.toBeNull();
    const lowered = compose(await reopened.refresh(key({ district: V2 })), NOW);
    expect(phone.calls).toEqual({ files: 1, file: [] });
    expect(lowered.dues.slice(0, 3).map((d) => d.code).sort()).toEqual(['S0010', 'S0020', 'S0021']);

    // S0020's patrol uploads: the server's alarm, named after it, comes back in its place.
    db.write({
      _id: 'S0020:alarm:01M7YN07V8XQJ7JEF02Y1D0009',
      type: 'alarm',
      shop: 'S0020',
      status: 'open',
      source: 'S0020:patrol:01M7YN07V8XQJ7JEF02Y1D0009',
      items: [{ item: 'open_flame', severity: 'serious', hazard: 'S0020:hazard:01M7YN07V8XQJ7JEF02Y1D0009-open_flame' }],
      cost: 10,
      created_at: '2026-11-28T10:00:00+08:00',
    });
    const answered = compose(await reopened.refresh(key({ district: V2 })), NOW);
    expect(answered.dues.find((d) => d.code === 'S0020')).toMatchObject({ openAlarms: 1, pendingAlarms: 0 });
  });
});
