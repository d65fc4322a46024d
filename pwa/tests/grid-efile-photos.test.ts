// @vitest-environment happy-dom
// A shop's e-file holds a year of records, each with its photos, most below the fold or under 更早的记录: a photo is
// fetched when its thumbnail comes near the screen, not all of them (megabytes on a poor signal) when the e-file opens.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Doc } from '../src/grid/docs';
import { FakeLocalDb, shop } from './grid-fixtures';

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

/** The IntersectionObserver a browser has: here the test says which thumbnails came near the screen. */
class Screen {
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

function selfCheck(n: number): Doc {
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
