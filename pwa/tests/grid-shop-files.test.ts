// The grid worker's shop files are read once, then only what changed: the list redraws on each batch of a first
// download and on every return from a shop, and a city grid's phone holds ~13,000 documents.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Doc } from '../src/grid/docs';
import { groupByShop } from '../src/grid/due';
import { FakeLocalDb, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({ db: null as unknown }));

vi.mock('../src/db', () => ({ localDb: () => phone.db }));
vi.mock('../src/session', () => ({ apiFetch: async () => new Response('{}') }));

function event(code: string, type: string, n: number, extra: object = {}): Doc {
  return {
    _id: `${code}:${type}:01M7YN07V8XQJ7JEF02Y1DNS${String(n).padStart(2, '0')}`,
    type,
    shop: code,
    performed_at: `2026-11-${String(n).padStart(2, '0')}T10:00:00+08:00`,
    answers: {},
    template: 'district:template:fire-gas',
    ...extra,
  } as unknown as Doc;
}

function hazard(code: string, n: number): Doc {
  return {
    _id: `${code}:hazard:01M7YN07V8XQJ7JEF02Y1DNS${String(n).padStart(2, '0')}-gas_safe`,
    type: 'hazard',
    shop: code,
    status: 'open',
    item: 'gas_safe',
    found_at: `2026-11-${String(n).padStart(2, '0')}T10:00:00+08:00`,
    deadline: '2026-12-31',
  } as unknown as Doc;
}

let db: FakeLocalDb;

beforeEach(() => {
  vi.resetModules();
  db = new FakeLocalDb();
  phone.db = db;
});

const LIST_TYPES = new Set(['shop', 'score', 'self_check', 'patrol', 'hazard', 'alarm', 'rectification', 'verification']);

/** What reading every document of the list's types afresh gives (the files' contents, not their identity). */
async function fromScratch(): Promise<unknown> {
  const { rows } = await db.allDocs({ include_docs: true });
  const docs = rows.map((r) => r.doc as unknown as Doc).filter((d) => LIST_TYPES.has(d.type));
  return JSON.parse(JSON.stringify(Object.fromEntries(groupByShop(docs))));
}

function plain(files: Map<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(Object.fromEntries(files)));
}

describe("the grid worker's shop files", () => {
  it('are read once: a redraw after a change reads that change, not every document again', async () => {
    const { loadShopFiles } = await import('../src/grid/data');
    for (const code of ['S0001', 'S0002', 'S0003']) {
      db.write(shop(code), { _id: `${code}:score`, type: 'score', shop: code, points: 100, open_hazards: 0 });
      for (let n = 1; n <= 20; n++) db.write(event(code, 'self_check', n));
    }
    db.write({ _id: 'S0001:ledger:2026:start', type: 'ledger', shop: 'S0001', points: 100 }); // not the list's
    const first = await loadShopFiles();
    expect(plain(first)).toEqual(await fromScratch());

    db.docsRead = 0;
    db.write(event('S0002', 'patrol', 21, { findings: [] })); // the patrol just submitted
    const second = await loadShopFiles();
    expect(db.docsRead).toBeLessThanOrEqual(1);
    expect(second.get('S0002')?.patrols.map((p) => p._id)).toEqual(['S0002:patrol:01M7YN07V8XQJ7JEF02Y1DNS21']);
    expect(plain(second)).toEqual(await fromScratch());
    // A shop nothing changed at keeps its file: what is due there is not worked out again.
    expect(second.get('S0001')).toBe(first.get('S0001'));
    expect(second.get('S0002')).not.toBe(first.get('S0002'));
  });

  it('follow deletions, new shops and new versions of a document', async () => {
    const { loadShopFiles } = await import('../src/grid/data');
    db.write(shop('S0001'), hazard('S0001', 1), hazard('S0001', 2));
    expect((await loadShopFiles()).get('S0001')?.hazards).toHaveLength(2);
    db.remove('S0001:hazard:01M7YN07V8XQJ7JEF02Y1DNS02-gas_safe'); // merged into the older one by the server
    db.write({ ...hazard('S0001', 1), status: 'closed' });
    db.write(shop('S0004'));
    const files = await loadShopFiles();
    expect(files.get('S0001')?.hazards.map((h) => [h._id, h.status])).toEqual([
      ['S0001:hazard:01M7YN07V8XQJ7JEF02Y1DNS01-gas_safe', 'closed'],
    ]);
    expect([...files.keys()]).toEqual(['S0001', 'S0004']);
    expect(plain(files)).toEqual(await fromScratch());
  });

  it('start again on another database (signed out, another user signed in)', async () => {
    const { loadShopFiles } = await import('../src/grid/data');
    db.write(shop('S0001'));
    expect([...(await loadShopFiles()).keys()]).toEqual(['S0001']);
    db = new FakeLocalDb();
    phone.db = db;
    db.write(shop('S0009'));
    expect([...(await loadShopFiles()).keys()]).toEqual(['S0009']);
  });
});
