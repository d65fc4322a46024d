// @vitest-environment happy-dom
// The public card behind the QR code on a 360 px phone audit: a closed or unknown shop says so (and offers no way
// in), refused sign-ins and activations speak the screen's language, the new PIN is typed twice, and a code typed
// or linked in lower case or with a blank finds its shop.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLang, translate } from '../src/i18n';
import { matchRoute } from '../src/router';
import { ApiError } from '../src/session';
import { authMessage, listLabel, resolveShopCode, view } from '../src/views';

/** The server's answers: `{code}` → a card (200), or a 404 with its reason. */
let cards: Record<string, 'found' | 'closed'> = {};
/** More of a found card (its published list and month). */
let found: Record<string, unknown> = {};
let posts: { url: string; body: Record<string, string> }[] = [];
let authAnswer: { status: number; body: Record<string, unknown> } = { status: 401, body: {} };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

beforeEach(() => {
  cards = {};
  found = {};
  posts = [];
  localStorage.clear();
  document.body.replaceChildren();
  history.replaceState(null, '', '/');
  vi.stubGlobal('fetch', async (url: string, opts?: RequestInit) => {
    if (url.startsWith('/api/auth/')) {
      posts.push({ url, body: JSON.parse(String(opts?.body)) as Record<string, string> });
      return json(authAnswer.status, authAnswer.body);
    }
    const code = decodeURIComponent(url.replace('/api/public/shops/', ''));
    const state = cards[code];
    if (state === 'found') {
      return json(200, { code, name: `小吃店${code}`, address: '曙光北路1号', points: 90, rank: 2, of: 30, list: null, last_self_check: null, last_patrol: null, ...found });
    }
    return json(404, { error: 'not_found', reason: state === 'closed' ? 'closed' : 'missing' });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
  setLang('zh-CN');
});

function showShop(path: string): HTMLElement {
  history.replaceState(null, '', path);
  const route = matchRoute(path);
  const shown = view(route, async () => null, () => undefined);
  document.body.append(shown.node);
  return shown.node;
}

const settled = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

describe('a closed or unknown shop', () => {
  it('says the shop is closed, with no score, no sign-in, no activation and no patrol', async () => {
    cards = { S0003: 'closed' };
    const page = showShop('/s/S0003');
    await vi.waitFor(() => expect(page.querySelector('[data-card-state]')).not.toBeNull());
    expect(page.querySelector('[data-card]')?.getAttribute('data-card-state')).toBe('closed');
    expect(page.querySelector('[data-shop-name]')?.textContent).toBe('该店铺已停业');
    expect(page.textContent).not.toContain('未找到该店铺');
    expect((page.querySelector('.scoreboard') as HTMLElement).hidden).toBe(true); // no dashes
    expect((page.querySelector('.below-card') as HTMLElement).hidden).toBe(true);
  });

  it('in English too', async () => {
    setLang('en');
    cards = { S0003: 'closed' };
    const page = showShop('/s/S0003');
    await vi.waitFor(() => expect(page.querySelector('[data-shop-name]')?.textContent).toBe('This shop is closed'));
  });

  it('says an unknown code is not found, without the ways in', async () => {
    const page = showShop('/s/S9999');
    await vi.waitFor(() => expect(page.querySelector('[data-card]')?.getAttribute('data-card-state')).toBe('missing'));
    expect(page.querySelector('[data-shop-name]')?.textContent).toBe('未找到该店铺');
    expect((page.querySelector('.below-card') as HTMLElement).hidden).toBe(true);
  });

  it('an active shop keeps its card and the sign-in', async () => {
    cards = { S0001: 'found' };
    const page = showShop('/s/S0001');
    await vi.waitFor(() => expect(page.querySelector('[data-shop-name]')?.textContent).toBe('小吃店S0001'));
    expect(page.querySelector('[data-card-state]')).toBeNull();
    expect((page.querySelector('.below-card') as HTMLElement).hidden).toBe(false);
    expect(page.querySelector('input[name=pin]')).not.toBeNull();
  });
});

describe("the office's published list on the card", () => {
  it('shows the list with the month it was published for', async () => {
    cards = { S0001: 'found', S0002: 'found' };
    found = { list: 'black', list_month: '2026-11' };
    const page = showShop('/s/S0001');
    const badge = (): HTMLElement => page.querySelector<HTMLElement>('[data-list]')!;
    await vi.waitFor(() => expect(badge().hidden).toBe(false));
    expect(badge().textContent).toBe('2026年11月 黑榜');
    expect(badge().className).toBe('badge black');
    setLang('en');
    const english = showShop('/s/S0002');
    await vi.waitFor(() => expect(english.querySelector('[data-list]')?.textContent).toBe('Black list, November 2026'));
  });

  it('shows no list before anything is published, and a cached card of before stays readable', async () => {
    cards = { S0001: 'found' };
    found = { list: null, list_month: null };
    const page = showShop('/s/S0001');
    await vi.waitFor(() => expect(page.querySelector('[data-shop-name]')?.textContent).toBe('小吃店S0001'));
    expect(page.querySelector<HTMLElement>('[data-list]')!.hidden).toBe(true);
    expect(listLabel('red', null)).toBe('红榜'); // a card saved before the month came with it
  });
});

describe('a code in lower case or with a blank', () => {
  it('the router trims and decodes it', () => {
    expect(matchRoute('/s/S0001%20')).toEqual({ name: 'shop', code: 'S0001' });
    expect(matchRoute('/s/%20S0001/check')).toEqual({ name: 'check', code: 'S0001' });
    expect(matchRoute('/login?role=owner&shop=%20S0001%20')).toEqual({ name: 'login', role: 'owner', shop: 'S0001' });
    expect(matchRoute('/s/s0001')).toEqual({ name: 'shop', code: 's0001' }); // the case is the registry's to say
  });

  it('a lower-case link opens the shop of the upper-case code', async () => {
    cards = { S0001: 'found' };
    showShop('/s/s0001');
    await vi.waitFor(() => expect(location.pathname).toBe('/s/S0001'));
  });

  it('a lower-case code registered so stays as it is', async () => {
    cards = { s0001: 'found', S0001: 'found' };
    expect(await resolveShopCode(' s0001 ')).toBe('s0001');
    cards = { S0001: 'closed' };
    expect(await resolveShopCode('s0001')).toBe('S0001');
    cards = {};
    expect(await resolveShopCode('s0001')).toBe('s0001');
  });

  it('the owner types their code in lower case: signed in with the registered one', async () => {
    cards = { S0001: 'found' };
    authAnswer = { status: 401, body: { error: 'unauthorized', reason: 'Wrong shop code or PIN.' } };
    const page = showShop('/login?role=owner');
    const form = page.querySelector<HTMLFormElement>('[data-form=owner-login]')!;
    form.querySelector<HTMLInputElement>('input[name=shop]')!.value = ' s0001 ';
    form.querySelector<HTMLInputElement>('input[name=pin]')!.value = '123456';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(posts).toHaveLength(1));
    expect(posts[0]!.body.shop).toBe('S0001');
  });
});

describe('refused sign-ins in the screen language', () => {
  const refused = (status: number, reason: string, error = 'unauthorized') => new ApiError(status, error, reason);

  it('translates the known reasons, prefixed 登录失败 or 激活失败', () => {
    expect(authMessage(refused(401, 'Wrong shop code or PIN.'))).toBe('登录失败：店铺编号或密码错误。');
    expect(authMessage(refused(401, 'Wrong or expired activation code.'), true)).toBe(
      '激活失败：激活码错误或已过期，请向网格员索取新的激活码。',
    );
    expect(authMessage(refused(401, 'Wrong username or password.'))).toBe('登录失败：用户名或密码错误。');
    expect(authMessage(refused(403, '本店已停业，账号已停用。This shop is closed; its account is disabled.', 'forbidden'), true)).toBe(
      '激活失败：本店已停业，账号已停用。',
    );
    expect(authMessage(refused(429, 'Too many failed attempts; try again in 840 s.', 'too_many_requests'))).toBe(
      '登录失败：尝试次数过多，请 14 分钟后再试。',
    );
    expect(authMessage(refused(429, 'Too many failed attempts; try again in 42 s.', 'too_many_requests'))).toBe(
      '登录失败：尝试次数过多，请 42 秒后再试。',
    );
    expect(authMessage(refused(400, 'pin: exactly 6 digits', 'bad_request'), true)).toBe('激活失败：请输入 6 位数字');
  });

  it('and in English', () => {
    setLang('en');
    expect(authMessage(refused(401, 'Wrong or expired activation code.'), true)).toBe(
      'Activation failed: Wrong or expired activation code: ask your grid worker for a new one.',
    );
    expect(authMessage(refused(403, '本店已停业，账号已停用。This shop is closed; its account is disabled.', 'forbidden'))).toBe(
      'Sign-in failed: This shop is closed; its account is disabled.',
    );
    expect(authMessage(refused(429, 'Too many failed attempts; try again in 840 s.', 'too_many_requests'))).toBe(
      'Sign-in failed: Too many failed attempts: try again in 14 min.',
    );
  });

  it("shows a reason written Chinese first in the screen's part, an unknown shop in its own words", () => {
    // server/api/common.py `text_field`; server/errors.py `no_such`
    const empty = refused(400, 'shop: 不能为空。a non-empty string is required', 'bad_request');
    expect(authMessage(empty, true)).toBe('激活失败：shop: 不能为空。');
    const noShop = refused(404, '没有编号为 S9999 的店铺。No shop S9999.', 'not_found');
    expect(authMessage(noShop, true)).toBe('激活失败：未找到该店铺，请核对店铺编号。');
    setLang('en');
    expect(authMessage(empty, true)).toBe('Activation failed: shop: a non-empty string is required');
    expect(authMessage(noShop, true)).toBe('Activation failed: Shop not found: check the shop code.');
  });

  it('shows an unknown reason as the server wrote it', () => {
    expect(authMessage(refused(400, 'shop: a non-empty string is required', 'bad_request'))).toBe(
      translate('zh-CN', 'login.failed', { reason: 'shop: a non-empty string is required' }),
    );
  });

  it('an activation refused on the card says 激活失败 in Chinese', async () => {
    cards = { S0002: 'found' };
    authAnswer = { status: 401, body: { error: 'unauthorized', reason: 'Wrong or expired activation code.' } };
    const page = showShop('/s/S0002');
    const form = page.querySelector<HTMLFormElement>('[data-form=activate]')!;
    form.querySelector<HTMLInputElement>('input[name=code]')!.value = '12345678';
    form.querySelector<HTMLInputElement>('input[name=new_pin]')!.value = '135790';
    form.querySelector<HTMLInputElement>('input[name=confirm_pin]')!.value = '135790';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    const error = form.querySelector<HTMLElement>('.error')!;
    await vi.waitFor(() => expect(error.hidden).toBe(false));
    expect(error.textContent).toBe('激活失败：激活码错误或已过期，请向网格员索取新的激活码。');
  });
});

describe('the new PIN, typed twice', () => {
  function activation(pinValue: string, confirm: string): HTMLFormElement {
    cards = { S0002: 'found' };
    authAnswer = { status: 500, body: {} };
    const page = showShop('/s/S0002');
    const form = page.querySelector<HTMLFormElement>('[data-form=activate]')!;
    form.querySelector<HTMLInputElement>('input[name=code]')!.value = '12345678';
    form.querySelector<HTMLInputElement>('input[name=new_pin]')!.value = pinValue;
    form.querySelector<HTMLInputElement>('input[name=confirm_pin]')!.value = confirm;
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    return form;
  }

  it('has a confirmation field', () => {
    const form = activation('', '');
    const confirm = form.querySelector<HTMLInputElement>('input[name=confirm_pin]')!;
    expect(confirm.type).toBe('password');
    expect(confirm.required).toBe(true);
    expect(form.textContent).toContain('再次输入 6 位密码');
  });

  it('refuses two different PINs, sending nothing', async () => {
    const form = activation('135790', '135799');
    await settled();
    expect(form.querySelector('.error')?.textContent).toBe('两次输入的密码不一致，请重新输入。');
    expect(posts).toHaveLength(0);
  });

  it('says 请输入 6 位数字 for a PIN of the wrong length, not the browser bubble', async () => {
    const form = activation('1357', '1357');
    await settled();
    expect(form.querySelector('.error')?.textContent).toBe('请输入 6 位数字');
    expect(form.querySelector('input[name=new_pin]')?.hasAttribute('pattern')).toBe(false);
    expect(posts).toHaveLength(0);
  });

  it('the PIN sign-in says it too', async () => {
    cards = { S0002: 'found' };
    const page = showShop('/s/S0002');
    const form = page.querySelector<HTMLFormElement>('[data-form=owner-login]')!;
    form.querySelector<HTMLInputElement>('input[name=pin]')!.value = '12a';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await settled();
    expect(form.querySelector('.error')?.textContent).toBe('请输入 6 位数字');
    expect(posts).toHaveLength(0);
  });

  it('refuses a PIN a stranger would try first, sending nothing; the server says so too', async () => {
    for (const weak of ['111111', '123456', '987654', '123123']) {
      posts.length = 0;
      const form = activation(weak, weak);
      await settled();
      expect(form.querySelector('.error')?.textContent).toBe('密码太简单，容易被猜到（如 111111、123456）：请换一个。');
      expect(posts).toHaveLength(0);
    }
    const reason = 'pin: too easy to guess (one digit repeated, digits in a row, or a common PIN); choose another';
    expect(authMessage(new ApiError(400, 'bad_request', reason), true)).toBe('激活失败：密码太简单，容易被猜到（如 111111、123456）：请换一个。');
  });

  it('sends matching PINs', async () => {
    activation('135790', '135790');
    await vi.waitFor(() => expect(posts).toHaveLength(1));
    expect(posts[0]).toEqual({ url: '/api/auth/activate', body: { shop: 'S0002', code: '12345678', pin: '135790' } });
  });
});
