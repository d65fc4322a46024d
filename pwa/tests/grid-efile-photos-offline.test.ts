// @vitest-environment happy-dom
// Offline, the phone has only some of the server's photos (../src/photo-cache.ts). A thumbnail of one it does not keep
// says so in its frame (联网后显示), not an empty frame that reads as a broken app, and shows the photo once the signal
// is back while the e-file is still on the screen.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, Screen, selfCheck, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({ db: null as unknown, online: false, kept: new Set<string>(), asked: [] as string[] }));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  whileShown: () => undefined,
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
}));
vi.mock('../src/photo-cache', () => ({
  // The phone's copy, else the server's when there is signal (as `thumbUrl` does).
  thumbUrl: async (id: string) => {
    phone.asked.push(id);
    return phone.online || phone.kept.has(id) ? `blob:${id}` : null;
  },
}));

beforeEach(() => {
  vi.resetModules();
  Screen.seen = [];
  vi.stubGlobal('IntersectionObserver', Screen);
  const db = new FakeLocalDb();
  db.write(shop('S0001'), selfCheck(0)); // one self-check, two photos: `…0000a` kept on the phone, `…0000b` not
  phone.db = db;
  phone.online = false;
  phone.kept = new Set(['S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000a']);
  phone.asked = [];
  return () => vi.unstubAllGlobals();
});

const KEPT = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000a';
const NOT_KEPT = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000b';

/** The e-file, offline, scrolled to its self-check's photos. */
async function offlineEfile(): Promise<{ node: HTMLElement; online: () => void }> {
  const { updateSyncFacts } = await import('../src/sync-status');
  updateSyncFacts({ online: false });
  const { efileView } = await import('../src/grid/efile');
  const view = efileView('S0001');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelectorAll('img[data-photo]')).toHaveLength(2));
  Screen.scrollTo([...view.node.querySelectorAll('img[data-photo]')]);
  await vi.waitFor(() => expect(view.node.querySelector(`[data-photo-offline="${NOT_KEPT}"]`)).not.toBeNull());
  return {
    node: view.node,
    online: () => {
      phone.online = true;
      updateSyncFacts({ online: true });
    },
  };
}

describe("a shop's e-file without signal", () => {
  it('says 联网后显示 in the frame of a photo the phone does not keep, and shows the kept one', async () => {
    const { node } = await offlineEfile();
    const row = node.querySelector('li.g-event .g-thumbs')!;
    const placeholder = row.querySelector<HTMLElement>(`[data-photo-offline="${NOT_KEPT}"]`)!;
    expect(placeholder.textContent).toBe('联网后显示');
    expect(placeholder.className).toBe('g-photo-offline'); // a frame of the thumbnail's size (grid.css)
    // No empty frame: the photo kept on the phone shows, the other is said.
    expect([...row.querySelectorAll('img')].map((img) => img.getAttribute('src'))).toEqual([`blob:${KEPT}`]);
    expect(row.children).toHaveLength(2);
  });

  it('in English, says it shows when online', async () => {
    const { setLang } = await import('../src/i18n');
    setLang('en');
    const { node } = await offlineEfile();
    expect(node.querySelector(`[data-photo-offline="${NOT_KEPT}"]`)?.textContent).toBe('shows when online');
    setLang('zh-CN');
  });

  it('shows the photo in its place once the signal is back, while the e-file is shown', async () => {
    const { node, online } = await offlineEfile();
    online();
    const placeholder = node.querySelector(`[data-photo-offline="${NOT_KEPT}"]`)!;
    Screen.scrollTo([placeholder]); // still on the screen: the browser says so as the watcher looks again
    await vi.waitFor(() => expect(node.querySelector(`img[data-photo="${NOT_KEPT}"]`)?.getAttribute('src')).toBe(`blob:${NOT_KEPT}`));
    expect(node.querySelector('[data-photo-offline]')).toBeNull();
    const row = node.querySelector('li.g-event .g-thumbs')!;
    expect([...row.children].map((el) => el.getAttribute('data-photo'))).toEqual([KEPT, NOT_KEPT]); // where it was
  });

  it('fetches nothing for an e-file the worker has left when the signal comes back', async () => {
    const { online } = await offlineEfile();
    document.body.replaceChildren(); // the worker went back to the list
    const asked = phone.asked.length;
    online();
    Screen.scrollTo([...Screen.seen.flatMap((screen) => [...screen.targets])]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(phone.asked).toHaveLength(asked);
  });
});
