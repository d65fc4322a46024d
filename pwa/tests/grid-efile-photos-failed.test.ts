// @vitest-environment happy-dom
// With signal, a photo may still not load: the server answers 404 or 500, the request dies on a poor signal, the
// photo is gone. Its thumbnail says so in its frame (加载失败，点按重试), not a faded empty frame with no word and no
// way to try again; a tap tries again, and so does the signal coming back after a time without. Never by itself in a
// loop while online (each try costs the signal the sync needs).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, Screen, selfCheck, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({
  db: null as unknown,
  server: 'down' as 'down' | 'up' | 'rejects',
  asked: [] as string[],
}));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  whileShown: () => undefined,
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
}));
vi.mock('../src/photo-cache', () => ({
  // `…0000a` is on the phone; `…0000b` comes from the server, which fails it (null, as ../src/events `photoUrl`
  // answers a 404, a 500 or a dropped request) until it is up.
  thumbUrl: async (id: string) => {
    phone.asked.push(id);
    if (id === KEPT || phone.server === 'up') return `blob:${id}`;
    if (phone.server === 'rejects') throw new TypeError('Failed to fetch');
    return null;
  },
}));

beforeEach(() => {
  vi.resetModules();
  Screen.seen = [];
  vi.stubGlobal('IntersectionObserver', Screen);
  const db = new FakeLocalDb();
  db.write(shop('S0001'), selfCheck(0)); // one self-check, two photos
  phone.db = db;
  phone.server = 'down';
  phone.asked = [];
  return () => vi.unstubAllGlobals();
});

const KEPT = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000a';
const FAILS = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000b';

/** The e-file with signal, scrolled to its self-check's photos, once the one from the server has failed. */
async function efileOnline(): Promise<HTMLElement> {
  const { updateSyncFacts } = await import('../src/sync-status');
  updateSyncFacts({ online: true });
  const { efileView } = await import('../src/grid/efile');
  const view = efileView('S0001');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelectorAll('img[data-photo]')).toHaveLength(2));
  Screen.scrollTo([...view.node.querySelectorAll('img[data-photo]')]);
  await vi.waitFor(() => expect(view.node.querySelector(`[data-photo-failed="${FAILS}"]`)).not.toBeNull());
  return view.node;
}

const asks = (id: string): number => phone.asked.filter((a) => a === id).length;

describe("a photo of a shop's e-file that does not load, with signal", () => {
  it('says 加载失败，点按重试 in its frame, on a button, beside the photo that did load', async () => {
    const node = await efileOnline();
    const row = node.querySelector('li.g-event .g-thumbs')!;
    const failed = row.querySelector<HTMLButtonElement>(`[data-photo-failed="${FAILS}"]`)!;
    expect(failed.tagName).toBe('BUTTON');
    expect(failed.type).toBe('button'); // in the patrol form, a tap must not submit it
    expect(failed.textContent).toBe('加载失败，点按重试');
    expect(failed.className).toBe('photo-failed'); // style.css, the size of the grid's thumbnails (grid.css)
    expect(row.querySelector('[data-photo-offline]')).toBeNull(); // not 联网后显示: the phone is online
    expect([...row.children].map((el) => el.getAttribute('src') ?? el.textContent)).toEqual([`blob:${KEPT}`, '加载失败，点按重试']);
  });

  it('says so too when the request itself fails', async () => {
    phone.server = 'rejects';
    const node = await efileOnline();
    expect(node.querySelector(`[data-photo-failed="${FAILS}"]`)?.textContent).toBe('加载失败，点按重试');
  });

  it("in English, says it couldn't load", async () => {
    const { setLang } = await import('../src/i18n');
    setLang('en');
    const node = await efileOnline();
    expect(node.querySelector(`[data-photo-failed="${FAILS}"]`)?.textContent).toBe("Couldn't load. Tap to retry");
    setLang('zh-CN');
  });

  it('tries again on a tap, and shows the photo in its place when it comes', async () => {
    const node = await efileOnline();
    const failed = node.querySelector<HTMLButtonElement>(`[data-photo-failed="${FAILS}"]`)!;
    failed.click(); // still failing: still said, and can be tapped again
    await vi.waitFor(() => expect(asks(FAILS)).toBe(2));
    await vi.waitFor(() => expect(failed.disabled).toBe(false));
    expect(node.querySelector(`[data-photo-failed="${FAILS}"]`)).toBe(failed);

    phone.server = 'up';
    failed.click();
    await vi.waitFor(() => expect(node.querySelector(`img[data-photo="${FAILS}"]`)?.getAttribute('src')).toBe(`blob:${FAILS}`));
    expect(node.querySelector('[data-photo-failed]')).toBeNull();
    const row = node.querySelector('li.g-event .g-thumbs')!;
    expect([...row.children].map((el) => el.getAttribute('data-photo'))).toEqual([KEPT, FAILS]); // where it was
  });

  it('does not try again by itself while online, but does once the signal comes back after being lost', async () => {
    const node = await efileOnline();
    const { updateSyncFacts } = await import('../src/sync-status');
    // The sync goes on (something waits to go up, then goes): no offline in between, so no new try.
    updateSyncFacts({ pendingDocs: 1 });
    updateSyncFacts({ pendingDocs: 0 });
    Screen.scrollTo([...node.querySelectorAll('[data-photo-failed], img[data-photo]')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(asks(FAILS)).toBe(1);
    expect(node.querySelector(`[data-photo-failed="${FAILS}"]`)).not.toBeNull();

    updateSyncFacts({ online: false });
    phone.server = 'up';
    updateSyncFacts({ online: true });
    Screen.scrollTo([node.querySelector(`[data-photo-failed="${FAILS}"]`)!]); // still on the screen
    await vi.waitFor(() => expect(node.querySelector(`img[data-photo="${FAILS}"]`)?.getAttribute('src')).toBe(`blob:${FAILS}`));
    expect(asks(FAILS)).toBe(2);
  });

  it('tries once per return of the signal, not again and again, while the server still fails', async () => {
    const node = await efileOnline();
    const { updateSyncFacts } = await import('../src/sync-status');
    updateSyncFacts({ online: false });
    updateSyncFacts({ online: true });
    Screen.scrollTo([node.querySelector(`[data-photo-failed="${FAILS}"]`)!]);
    await vi.waitFor(() => expect(asks(FAILS)).toBe(2));
    Screen.scrollTo([node.querySelector(`[data-photo-failed="${FAILS}"]`)!]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(asks(FAILS)).toBe(2);
    expect(node.querySelector(`[data-photo-failed="${FAILS}"]`)?.textContent).toBe('加载失败，点按重试');
  });
});
