// @vitest-environment happy-dom
// A photo from the server on a very poor signal (a basement) or through a Wi-Fi login page: its request may never be
// answered, its body may stop coming, or a 200 may bring an HTML page. The thumbnail must not stay an empty frame until
// the browser gives up (minutes), nor show a broken image: after a bounded wait without a byte (../src/photo-fetch
// PHOTO_TIMEOUT_MS, shortened here) the request is aborted, and the frame says 加载失败，点按重试 (not 照片未上传:
// that is a 404's), as for a server error; nothing that is no picture is kept, and a tap brings the photo once it comes.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, Screen, selfCheck, shop } from './grid-fixtures';

type Answer = 'photo' | 'never' | 'html' | 'stalls' | 'trickles' | 'undecodable';
const phone = vi.hoisted(() => ({ db: null as unknown, answer: 'never' as Answer, asked: [] as (AbortSignal | undefined)[] }));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  whileShown: () => undefined,
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
}));
vi.mock('../src/session', () => ({
  currentSession: () => ({ token: 't', user: { id: 'grid:zhou01', role: 'grid' } }),
  apiFetch: async () => new Response('{}'),
}));

const FINE = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000a'; // comes at once
const SLOW = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1D0000b'; // answered as `phone.answer` says
const WAIT = 90; // ms: the bounded wait, shortened

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);
const jpeg = (body: BodyInit = JPEG): Response => new Response(body, { headers: { 'content-type': 'image/jpeg' } });

/** A request that never answers, as on a dead signal; like a browser's, it fails once aborted (if it can be). */
function never(signal: AbortSignal | null | undefined): Promise<Response> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
}

/** A body that sends one byte of `bytes` every `every` ms, then ends; or (`stall`) sends two, then no more, never
 *  ending. */
function body(bytes: Uint8Array, every: number, stall = false): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      if (stall && sent === 2) return new Promise<void>(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, every));
      controller.enqueue(bytes.slice(sent, sent + 1));
      sent += 1;
      if (sent === bytes.length) controller.close();
    },
  });
}

beforeEach(async () => {
  vi.resetModules();
  Screen.seen = [];
  vi.stubGlobal('IntersectionObserver', Screen);
  vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
    if (!url.includes(encodeURIComponent(SLOW))) return jpeg();
    phone.asked.push(init?.signal ?? undefined);
    switch (phone.answer) {
      case 'photo':
        return jpeg();
      case 'never':
        return never(init?.signal);
      case 'html': // a captive portal's login page, or a proxy's error page, with a 200
        return new Response('<html><body>请登录 Wi-Fi</body></html>', { headers: { 'content-type': 'text/html; charset=utf-8' } });
      case 'stalls': // the answer comes, then its body stops
        return jpeg(body(JPEG, 5, true));
      case 'trickles': // slowly but surely: longer in all than the wait, never that long without a byte
        return jpeg(body(new Uint8Array([0xff, 0xd8, ...new Array<number>(10).fill(0), 0xff, 0xd9]), WAIT / 4));
      case 'undecodable': // said to be a JPEG, but no picture the browser can decode
        return jpeg('<html>oops</html>');
    }
  });
  const db = new FakeLocalDb();
  db.write(shop('S0001'), selfCheck(0)); // one self-check, two photos
  phone.db = db;
  phone.answer = 'never';
  phone.asked = [];
  const { setPhotoTimeout } = await import('../src/photo-fetch');
  setPhotoTimeout(WAIT);
  return () => vi.unstubAllGlobals();
});

/** The e-file with signal, scrolled to its self-check's two photos. */
async function efile(lang: 'zh-CN' | 'en' = 'zh-CN'): Promise<HTMLElement> {
  const { setLang } = await import('../src/i18n');
  setLang(lang);
  const { updateSyncFacts } = await import('../src/sync-status');
  updateSyncFacts({ online: true });
  const { efileView } = await import('../src/grid/efile');
  const view = efileView('S0001');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelectorAll('img[data-photo]')).toHaveLength(2));
  Screen.scrollTo([...view.node.querySelectorAll('img[data-photo]')]);
  await vi.waitFor(() => expect(view.node.querySelector<HTMLImageElement>(`img[data-photo="${FINE}"]`)?.getAttribute('src')).toMatch(/^blob:/));
  return view.node;
}

const failed = (node: HTMLElement): HTMLButtonElement | null => node.querySelector(`[data-photo-failed="${SLOW}"]`);
const shown = (node: HTMLElement): string | null | undefined => node.querySelector(`img[data-photo="${SLOW}"]`)?.getAttribute('src');

describe('a photo whose request is never answered, with a poor signal', () => {
  it('says 加载失败，点按重试 after the bounded wait, the request aborted; a tap shows it once it comes', async () => {
    const node = await efile();
    await vi.waitFor(() => expect(failed(node)?.textContent).toBe('加载失败，点按重试'));
    expect(phone.asked).toHaveLength(1);
    expect(phone.asked[0]?.aborted).toBe(true); // it does not hold the connection
    expect(node.querySelector('[data-photo-offline]')).toBeNull(); // online: not 联网后显示

    phone.answer = 'photo';
    failed(node)!.click();
    await vi.waitFor(() => expect(shown(node)).toMatch(/^blob:/));
    expect(failed(node)).toBeNull();
    expect(phone.asked).toHaveLength(2);
  });

  it('says so too when the answer comes and its body stops', async () => {
    phone.answer = 'stalls';
    const node = await efile();
    await vi.waitFor(() => expect(failed(node)?.textContent).toBe('加载失败，点按重试'));
    expect(phone.asked[0]?.aborted).toBe(true);
  });

  it('waits for a body that keeps coming, however slowly: the wait is without a byte, not in all', async () => {
    phone.answer = 'trickles';
    const node = await efile();
    await vi.waitFor(() => expect(shown(node)).toMatch(/^blob:/), { timeout: 2000 });
    expect(failed(node)).toBeNull();
    expect(phone.asked[0]?.aborted).toBe(false);
  });

  it("in English, says it couldn't load", async () => {
    const node = await efile('en');
    await vi.waitFor(() => expect(failed(node)?.textContent).toBe("Couldn't load. Tap to retry"));
  });
});

describe('a 200 whose body is no picture (a Wi-Fi login page)', () => {
  it('says 加载失败，点按重试, not a broken image nor 照片未上传, keeps nothing, and a tap shows the photo', async () => {
    phone.answer = 'html';
    const node = await efile();
    await vi.waitFor(() => expect(failed(node)?.textContent).toBe('加载失败，点按重试'));
    expect(shown(node)).toBeUndefined(); // no <img> of it on the page

    // The page was not kept as the photo: a tap asks the server again, and shows the photo once it comes.
    failed(node)!.click();
    await vi.waitFor(() => expect(phone.asked).toHaveLength(2));
    await vi.waitFor(() => expect(failed(node)?.disabled).toBe(false));
    phone.answer = 'photo';
    failed(node)!.click();
    await vi.waitFor(() => expect(shown(node)).toMatch(/^blob:/));
    expect(phone.asked).toHaveLength(3);
    expect(failed(node)).toBeNull();
  });

  it('says so too for a "JPEG" the browser cannot decode, and a tap fetches it anew rather than showing it again', async () => {
    phone.answer = 'undecodable';
    const node = await efile();
    await vi.waitFor(() => expect(shown(node)).toMatch(/^blob:/));
    const bad = shown(node)!;
    node.querySelector(`img[data-photo="${SLOW}"]`)!.dispatchEvent(new Event('error')); // what the browser does
    await vi.waitFor(() => expect(failed(node)?.textContent).toBe('加载失败，点按重试'));

    phone.answer = 'photo';
    failed(node)!.click();
    await vi.waitFor(() => expect(shown(node)).toMatch(/^blob:/));
    expect(shown(node)).not.toBe(bad);
    expect(phone.asked).toHaveLength(2);
  });
});
