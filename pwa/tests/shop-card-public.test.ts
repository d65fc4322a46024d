// @vitest-environment happy-dom
// What a customer or an inspector sees scanning a shop's wall QR code without an account: how long ago the last
// self-check and patrol were, how old an offline card is (and no made-up facts when none is saved), a friendly
// answer for a code no shop can have, and the shop's name in the page's title (WeChat's heading).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';
import { matchRoute } from '../src/router';
import { addDays, shanghaiDay } from '../src/ulid';
import { daysAgo, view } from '../src/views';

/** The server's card for S0001, or `offline`: every fetch fails as it does with no network. */
let answer: Record<string, unknown> | 'offline' = 'offline';

beforeEach(() => {
  answer = 'offline';
  localStorage.clear();
  document.body.replaceChildren();
  document.title = '';
  vi.stubGlobal('fetch', async (url: string) => {
    if (answer === 'offline') throw new TypeError('Failed to fetch');
    const code = decodeURIComponent(url.replace('/api/public/shops/', ''));
    const body = { code, name: `小吃店${code}`, address: '曙光北路1号', points: 90, rank: 2, of: 30, list: null, list_month: null, last_self_check: null, last_patrol: null, ...answer };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
  setLang('zh-CN');
});

function show(path: string): HTMLElement {
  history.replaceState(null, '', path);
  const shown = view(matchRoute(path), async () => null, () => undefined);
  document.title = shown.title;
  document.body.append(shown.node);
  return shown.node;
}

const agoOf = (page: HTMLElement, sel: string): string | null | undefined =>
  page.querySelector(sel)?.parentElement?.querySelector('[data-ago]')?.textContent;

describe('the days of the last self-check and patrol', () => {
  it('say how long ago they were, below the date', async () => {
    const today = shanghaiDay();
    answer = { last_self_check: addDays(today, -7), last_patrol: addDays(today, -1) };
    const page = show('/s/S0001');
    await vi.waitFor(() => expect(page.querySelector('[data-last-self-check]')?.textContent).toBe(addDays(today, -7)));
    expect(agoOf(page, '[data-last-self-check]')).toBe('7 天前');
    expect(agoOf(page, '[data-last-patrol]')).toBe('昨天');
    expect(page.querySelector('[data-last-patrol]')?.textContent).toBe(addDays(today, -1));
  });

  it('in English too, and nothing beside 暂无', async () => {
    setLang('en');
    answer = { last_self_check: shanghaiDay(), last_patrol: null };
    const page = show('/s/S0001');
    await vi.waitFor(() => expect(agoOf(page, '[data-last-self-check]')).toBe('today'));
    expect(page.querySelector('[data-last-patrol]')?.textContent).toBe('none yet');
    expect(agoOf(page, '[data-last-patrol]')).toBe('');
    expect(daysAgo('2026-11-01', '2026-12-02')).toBe('31 days ago');
    expect(daysAgo('2026-12-03', '2026-12-02')).toBe(''); // a phone's clock set back
  });
});

describe('offline', () => {
  it('says when the card shown was saved', async () => {
    localStorage.setItem(
      'mashang.card.S0001',
      JSON.stringify({ code: 'S0001', name: '小吃店S0001', address: '', points: 80, rank: 5, of: 30, list: null, list_month: null, last_self_check: '2026-11-25', last_patrol: null, saved_at: '2026-11-28T07:58:00.000Z' }),
    );
    const page = show('/s/S0001');
    await vi.waitFor(() => expect(page.querySelector('.card-note')?.textContent).toBe('离线：显示的是 2026-11-28 15:58 保存的信息'));
    expect(page.querySelector('[data-score]')?.textContent).toBe('80');
  });

  it('says when the card was fetched, not when a newer score synced since was kept in it', async () => {
    localStorage.setItem(
      'mashang.card.S0001',
      JSON.stringify({ code: 'S0001', name: '小吃店S0001', address: '', points: 82, rank: 5, of: 30, list: null, list_month: null, last_self_check: '2026-11-25', last_patrol: null, fetched_at: '2026-11-20T02:00:00.000Z', saved_at: '2026-11-28T07:58:00.000Z' }),
    );
    const page = show('/s/S0001');
    await vi.waitFor(() => expect(page.querySelector('.card-note')?.textContent).toBe('离线：显示的是 2026-11-20 10:00 保存的信息'));
  });

  it('with no card saved on the phone, shows no score and no 暂无, and says why', async () => {
    const page = show('/s/S0266');
    await vi.waitFor(() => expect(page.querySelector('[data-card]')?.getAttribute('data-card-state')).toBe('unavailable'));
    expect(page.querySelector('[data-shop-name]')?.textContent).toBe('S0266');
    expect(page.querySelector<HTMLElement>('.scoreboard')!.hidden).toBe(true);
    expect(page.querySelector<HTMLElement>('.dates')!.hidden).toBe(true);
    expect(page.querySelector('.card-note')?.textContent).toContain('本机也没有保存过该店铺的信息');
    expect(page.querySelector('.card-note')?.textContent).not.toContain('上次保存');

    answer = {}; // back online: the card comes
    const again = show('/s/S0266');
    await vi.waitFor(() => expect(again.querySelector('[data-shop-name]')?.textContent).toBe('小吃店S0266'));
    expect(again.querySelector('[data-card-state]')).toBeNull();
    expect(again.querySelector<HTMLElement>('.scoreboard')!.hidden).toBe(false);
  });
});

describe('a code no shop can have', () => {
  it.each([
    ['bad characters', '/s/S0001%3Cb%3E'],
    ['too long', `/s/${'A'.repeat(300)}`],
    ['Chinese', '/s/%E4%B8%AD%E6%96%87'],
    ['a broken escape', '/s/%E0%A4%A'],
  ])('%s: says the shop is not found', (_what, path) => {
    const page = show(path);
    expect(page.querySelector('h1')?.textContent).toBe('未找到该店铺');
    expect(page.textContent).toContain('请核对二维码或店铺编号');
    expect(page.textContent).not.toContain('页面不存在');
    expect(page.querySelector('a[href="/"]')).not.toBeNull();
  });

  it('any other unknown page is still 页面不存在', () => {
    expect(show('/nowhere').querySelector('h1')?.textContent).toBe('页面不存在');
    expect(show('/s/S0001/nowhere').querySelector('h1')?.textContent).toBe('页面不存在'); // a shop's, but no such page
  });
});

it("puts the shop's name in the page's title", async () => {
  answer = {};
  show('/s/S0001');
  await vi.waitFor(() => expect(document.title).toBe('小吃店S0001 · 码上安全'));
});
