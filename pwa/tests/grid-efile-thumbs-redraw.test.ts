// @vitest-environment happy-dom
// The e-file is drawn again at each change of the local database (a sync batch, a photo gone up). Each drawing builds
// its thumbnails before it is put on the page; the watcher of the thumbnails forgets, now and then, those a redraw took
// off the page. It must not forget those of the drawing being built (not on the page yet either): they would never
// load, and the worker would see the top of the e-file without its photos.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, Screen, selfCheck, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({ db: null as unknown, asked: [] as string[], redraw: null as null | (() => void) }));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  whileShown: (_node: HTMLElement, onChange: () => void) => {
    phone.redraw = onChange;
  },
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
  for (let n = 0; n < 35; n++) db.write(selfCheck(n)); // 70 thumbnails: a multiple of neither 300 nor its half
  phone.db = db;
  phone.asked = [];
  phone.redraw = null;
});

describe("a shop's e-file drawn again and again", () => {
  it('loads the thumbnails of the latest drawing when they come near the screen, after many redraws', async () => {
    const { efileView } = await import('../src/grid/efile');
    const view = efileView('S0001');
    document.body.replaceChildren(view.node);
    let drawn = view.node.querySelector('img[data-photo]');
    await vi.waitFor(() => expect((drawn = view.node.querySelector('img[data-photo]'))).not.toBeNull());
    for (let n = 0; n < 8; n++) {
      const before = drawn;
      phone.redraw?.(); // a sync batch while the worker reads the top of the e-file: the rest stays below the fold
      await vi.waitFor(() => {
        drawn = view.node.querySelector('img[data-photo]');
        expect(drawn).not.toBe(before); // the next drawing is on the page
      });
      await new Promise((resolve) => setTimeout(resolve, 5)); // anything the watcher does after a drawing
      // Every thumbnail of the drawing on the page is watched, to load when the worker scrolls to it.
      const watched = new Set(Screen.seen.flatMap((screen) => [...screen.targets]));
      const unwatched = [...view.node.querySelectorAll('img[data-photo]')].filter((img) => !watched.has(img));
      expect(unwatched.map((img) => img.getAttribute('data-photo'))).toEqual([]);
    }
    // The worker now scrolls through the whole e-file: every thumbnail on the page loads.
    const shown = [...view.node.querySelectorAll('img[data-photo]')];
    expect(shown).toHaveLength(70);
    Screen.scrollTo(shown);
    await vi.waitFor(() => expect(new Set(phone.asked).size).toBe(70));
    expect(shown.every((img) => img.getAttribute('src')?.startsWith('blob:'))).toBe(true);
    vi.unstubAllGlobals();
  });
});
