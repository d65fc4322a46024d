// @vitest-environment happy-dom
// A photo the server answers 404 for is, most of the time, one the phone that took it has not uploaded yet (the
// owner's self-check photo still on the owner's phone): its thumbnail says 照片未上传, as the office's does, not
// 加载失败 (a server error, a dropped request); a tap still asks again, and shows it once the server has it.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, Screen, selfCheck, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({ db: null as unknown, uploaded: false }));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  whileShown: () => undefined,
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
}));
vi.mock('../src/session', () => ({
  currentSession: () => ({ token: 't', user: { id: 'grid:zhou01', role: 'grid' } }),
  apiFetch: async () => new Response('{}'),
}));

const MISSING = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000a'; // not on the server yet: 404
const BROKEN = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000b'; // the server fails it: 500

beforeEach(() => {
  vi.resetModules();
  Screen.seen = [];
  vi.stubGlobal('IntersectionObserver', Screen);
  vi.stubGlobal('fetch', async (url: string) => {
    if (url.includes(encodeURIComponent(MISSING))) {
      if (!phone.uploaded) return new Response('missing', { status: 404 });
      return new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } });
    }
    return new Response('oops', { status: 500 });
  });
  const db = new FakeLocalDb();
  db.write(shop('S0001'), selfCheck(0)); // one self-check, two photos
  phone.db = db;
  phone.uploaded = false;
  return () => vi.unstubAllGlobals();
});

async function efile(): Promise<HTMLElement> {
  const { setLang } = await import('../src/i18n');
  setLang('zh-CN');
  const { updateSyncFacts } = await import('../src/sync-status');
  updateSyncFacts({ online: true });
  const { efileView } = await import('../src/grid/efile');
  const view = efileView('S0001');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelectorAll('img[data-photo]')).toHaveLength(2));
  Screen.scrollTo([...view.node.querySelectorAll('img[data-photo]')]);
  await vi.waitFor(() => expect(view.node.querySelectorAll('[data-photo-failed]')).toHaveLength(2));
  return view.node;
}

const frame = (node: HTMLElement, id: string): HTMLButtonElement | null => node.querySelector(`[data-photo-failed="${id}"]`);

describe('a photo the server does not have yet (404), with signal', () => {
  it('says 照片未上传 in its frame, and loads on a tap once uploaded; one the server failed says 加载失败，点按重试', async () => {
    const node = await efile();
    expect(frame(node, MISSING)?.textContent).toBe('照片未上传');
    expect(frame(node, BROKEN)?.textContent).toBe('加载失败，点按重试');
    // A tap still asks again: shown once the server has it.
    phone.uploaded = true;
    frame(node, MISSING)!.click();
    await vi.waitFor(() => expect(node.querySelector(`img[data-photo="${MISSING}"]`)?.getAttribute('src')).toMatch(/^blob:/));
    expect(frame(node, MISSING)).toBeNull();
  });
});
