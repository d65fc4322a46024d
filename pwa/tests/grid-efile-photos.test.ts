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
vi.mock('../src/grid/photo-cache', () => ({
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
