// @vitest-environment happy-dom
// A shop's e-file holds a year of records, each with its photos, most below the fold or under 更早的记录: a photo is
// fetched when its thumbnail comes near the screen, not all of them (megabytes on a poor signal) when the e-file opens.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, Screen, selfCheck, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({ db: null as unknown, asked: [] as string[] }));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  whileShown: () => undefined,
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
}));
vi.mock('../src/photo-cache', () => ({
  thumbUrl: async (id: string) => {
    phone.asked.push(id);
    return `blob:${id}`;
  },
}));

beforeEach(() => {
  vi.resetModules();
  Screen.seen = [];
  vi.stubGlobal('IntersectionObserver', Screen);
  const db = new FakeLocalDb();
  db.write(shop('S0001'));
  for (let n = 0; n < 50; n++) db.write(selfCheck(n)); // a year of weekly self-checks, two photos each
  phone.db = db;
  phone.asked = [];
});

describe("a shop's e-file on a poor signal", () => {
  it('fetches the photos of the records the worker scrolls to, not the whole year', async () => {
    const { efileView } = await import('../src/grid/efile');
    const view = efileView('S0001');
    document.body.replaceChildren(view.node);
    await vi.waitFor(() => expect(view.node.querySelectorAll('img[data-photo]').length).toBe(100));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(phone.asked).toEqual([]);

    const first = [...view.node.querySelectorAll('li.g-event')][0]!;
    Screen.scrollTo([...first.querySelectorAll('img[data-photo]')]);
    await vi.waitFor(() => expect(phone.asked).toHaveLength(2));
    expect(first.querySelector('img')?.getAttribute('src')).toMatch(/^blob:S0001:photo:/);
    vi.unstubAllGlobals();
  });
});

describe("a hazard the owner fixed, on the shop's e-file", () => {
  it("shows the hazard's photo and the owner's fix photo, each under its name, from the phone's photo cache as the verify screen does", async () => {
    const db = phone.db as FakeLocalDb;
    const hazard = {
      _id: 'S0001:hazard:01M7YN07V8XQJ7JEF02Y1DNS01-extinguisher_valid',
      type: 'hazard',
      shop: 'S0001',
      status: 'rectified',
      source: 'S0001:patrol:01M7YN07V8XQJ7JEF02Y1DNS01',
      item: 'extinguisher_valid',
      severity: 'general',
      self_reported: false,
      found_at: '2026-11-01T10:00:00+08:00',
      deadline: '2026-11-08',
      cost: 2,
      photos: ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNSH1'], // the worker's, at the patrol
    };
    const fix = (n: number, at: string) => ({
      _id: `S0001:rectification:01M7YN07V8XQJ7JEF02Y1DNSF${n}`,
      type: 'rectification',
      shop: 'S0001',
      hazard: hazard._id,
      performed_at: at,
      note: '',
      photos: [`S0001:photo:01M7YN07V8XQJ7JEF02Y1DNSF${n}`],
    });
    // Another hazard the owner reported fixed without a photo, itself found without one: no photos, no names.
    const bare = { ...hazard, _id: 'S0001:hazard:01M7YN07V8XQJ7JEF02Y1DNS01-gas_safe', item: 'gas_safe', photos: [] };
    db.write(hazard, fix(1, '2026-11-03T10:00:00+08:00'), fix(2, '2026-11-05T10:00:00+08:00'), bare);
    db.write({ ...fix(3, '2026-11-04T10:00:00+08:00'), hazard: bare._id, photos: [] });
    const { efileView } = await import('../src/grid/efile');
    const view = efileView('S0001');
    document.body.replaceChildren(view.node);
    await vi.waitFor(() => expect(view.node.querySelectorAll('li.g-hazard')).toHaveLength(2));
    const card = view.node.querySelector(`li.g-hazard[data-hazard="${hazard._id}"]`)!;
    const photos = [...card.querySelectorAll('img[data-photo]')];
    // The hazard's photo, then the latest fix's (the one the verify screen compares), not the earlier fix's.
    expect(photos.map((img) => img.getAttribute('data-photo'))).toEqual([
      'S0001:photo:01M7YN07V8XQJ7JEF02Y1DNSH1',
      'S0001:photo:01M7YN07V8XQJ7JEF02Y1DNSF2',
    ]);
    // Each row of photos under what it shows: the worker tells the hazard from the fix.
    const named = [...card.querySelectorAll('[data-photos]')].map((row) => [
      row.firstElementChild?.textContent,
      [...row.querySelectorAll('img[data-photo]')].map((img) => img.getAttribute('data-photo')),
    ]);
    expect(named).toEqual([
      ['隐患照片', ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNSH1']],
      ['整改照片', ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNSF2']],
    ]);
    const other = view.node.querySelector(`li.g-hazard[data-hazard="${bare._id}"]`)!;
    expect(other.textContent).not.toMatch(/隐患照片|整改照片/);
    Screen.scrollTo(photos);
    await vi.waitFor(() => expect(photos.map((img) => img.getAttribute('src'))).toEqual([
      'blob:S0001:photo:01M7YN07V8XQJ7JEF02Y1DNSH1',
      'blob:S0001:photo:01M7YN07V8XQJ7JEF02Y1DNSF2',
    ]));
    vi.unstubAllGlobals();
  });
});
