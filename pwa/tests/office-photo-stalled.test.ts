// @vitest-environment happy-dom
// The office's photos (the alarm cards, the e-file) on a stalled network: fetched with no bounded wait, the frame
// stayed empty for good. They come as the phones' do (../src/photo-fetch: given up after a wait without a byte,
// shortened here; an answer that is no picture refused), with the office's token, and a photo that did not load says
// 加载失败，点按重试 (not 照片未上传: that is a 404's), and loads on a tap.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';

vi.mock('../src/session', async (actual) => ({
  ...(await actual<typeof import('../src/session')>()),
  currentSession: () => ({ token: 'office-token', user: { id: 'office:li', role: 'office' } }),
}));

type Answer = 'photo' | 'never' | 'html' | 'absent';
let answer: Answer = 'never';
const asked: { url: string; auth: string | null; signal?: AbortSignal }[] = [];
const WAIT = 60; // ms: the bounded wait, shortened

beforeEach(async () => {
  asked.length = 0;
  vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:photo');
  vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
    asked.push({ url, auth: new Headers(init?.headers).get('Authorization'), signal: init?.signal ?? undefined });
    switch (answer) {
      case 'photo':
        return new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } });
      case 'html': // a captive portal's login page with a 200
        return new Response('<html>请登录 Wi-Fi</html>', { headers: { 'content-type': 'text/html' } });
      case 'absent':
        return new Response('{"error":"not_found"}', { status: 404, headers: { 'content-type': 'application/json' } });
      case 'never': // a dead signal: no answer, until aborted
        return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)));
    }
  });
  const { setPhotoTimeout } = await import('../src/photo-fetch');
  setPhotoTimeout(WAIT);
});

afterEach(async () => {
  const { setPhotoTimeout } = await import('../src/photo-fetch');
  setPhotoTimeout();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  setLang('zh-CN');
  document.body.replaceChildren();
});

let n = 0;
async function thumb(): Promise<HTMLButtonElement> {
  const { photoThumb } = await import('../src/office/photo');
  const button = photoThumb(`S0001:photo:01M7YN07V8XQJ7JEF02Y1D000${n++}`, '照片') as HTMLButtonElement;
  document.body.append(button);
  return button;
}

describe('an office photo that does not come', () => {
  it('is given up after the wait without a byte, says 加载失败，点按重试, and loads on a tap', async () => {
    const button = await thumb();
    expect(asked[0]!.url).toMatch(/^\/api\/office\/photos\/S0001%3Aphoto%3A/);
    expect(asked[0]!.auth).toBe('Bearer office-token'); // the office's own token
    expect(button.dataset.photoState).toBe('loading');
    await vi.waitFor(() => expect(button.dataset.photoState).toBe('failed'), { timeout: 1000 });
    expect(asked[0]!.signal?.aborted).toBe(true); // the stalled request is let go
    expect(button.dataset.photoLabel).toBe('加载失败，点按重试');
    expect(button.getAttribute('aria-label')).toBe('照片加载失败（网络中断、超时或服务器出错），点按重试');
    expect(button.disabled).toBe(false);
    answer = 'photo';
    button.click();
    await vi.waitFor(() => expect(button.dataset.photoState).toBe('shown'));
    expect(asked).toHaveLength(2);
    expect(button.querySelector('img')!.getAttribute('src')).toBe('blob:photo');
    expect(button.dataset.photoLabel).toBeUndefined();
    expect(button.getAttribute('aria-label')).toBe('查看大图');
  });

  it('that is no picture (a Wi-Fi login page) is not shown, and is said as not loaded, in English too', async () => {
    setLang('en');
    answer = 'html';
    const button = await thumb();
    await vi.waitFor(() => expect(button.dataset.photoState).toBe('failed'));
    expect(button.dataset.photoLabel).toBe('Couldn\'t load. Tap to retry');
    expect(button.querySelector('img')!.getAttribute('src')).toBeNull();
  });

  it('that the server does not have yet is still waited for, not said as failed', async () => {
    answer = 'absent';
    const button = await thumb();
    await vi.waitFor(() => expect(button.dataset.photoState).toBe('uploading'));
    expect(button.dataset.photoLabel).toBe('照片上传中…');
    expect(button.disabled).toBe(true);
  });
});
