import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LANG, LANGS, pickLang, translate } from '../src/i18n';
import { loginPath, matchRoute, shopPath } from '../src/router';
import { deriveStatus, describeSyncError } from '../src/sync-status';
import { backOff, bearerFetch, PULL_BATCH_SIZE, syncUrl } from '../src/sync-config';

describe('i18n', () => {
  it('defaults to Chinese and keeps a stored choice', () => {
    expect(DEFAULT_LANG).toBe('zh-CN');
    expect(LANGS[0]).toBe('zh-CN');
    expect(pickLang(null)).toBe('zh-CN');
    expect(pickLang('en')).toBe('en');
    expect(pickLang('fr')).toBe('zh-CN');
  });

  it('uses the seed wording in Chinese and has English for it', () => {
    expect(translate('zh-CN', 'app.name')).toBe('码上安全');
    expect(translate('zh-CN', 'shop.score')).toBe('安全积分');
    expect(translate('zh-CN', 'shop.rank')).toBe('排名');
    expect(translate('zh-CN', 'shop.weeklyCheck')).toBe('每周自查');
    expect(translate('zh-CN', 'shop.patrol')).toBe('网格员巡查');
    expect(translate('zh-CN', 'login.owner')).toBe('店主登录');
    expect(translate('en', 'shop.score')).toBe('Safety score');
  });

  it('fills placeholders and leaves unknown ones alone', () => {
    expect(translate('zh-CN', 'sync.pending', { n: 3 })).toBe('3 条待上传');
    expect(translate('en', 'shop.rankOf', { of: 1500 })).toBe('of 1500');
    expect(translate('en', 'sync.pending')).toBe('{n} waiting');
  });

  it('the language button names the other language', () => {
    expect(translate('zh-CN', 'lang.switch')).toBe('English');
    expect(translate('en', 'lang.switch')).toBe('中文');
  });
});

describe('router', () => {
  it('matches home, shop and login paths', () => {
    expect(matchRoute('/')).toEqual({ name: 'home' });
    expect(matchRoute('')).toEqual({ name: 'home' });
    expect(matchRoute('/s/S0001')).toEqual({ name: 'shop', code: 'S0001' });
    expect(matchRoute('/s/S0001/')).toEqual({ name: 'shop', code: 'S0001' });
    expect(matchRoute('/login')).toEqual({ name: 'login', role: null, shop: null });
    expect(matchRoute('/login?role=grid&shop=S0001')).toEqual({ name: 'login', role: 'grid', shop: 'S0001' });
  });

  it('rejects unknown paths and bad shop codes', () => {
    expect(matchRoute('/s/')).toEqual({ name: 'notFound', path: '/s/' });
    expect(matchRoute('/s/S0001/extra').name).toBe('notFound');
    expect(matchRoute('/s/%E0%A4%A').name).toBe('notFound'); // malformed escape
    expect(matchRoute('/s/<script>').name).toBe('notFound');
    expect(matchRoute('/login?role=admin&shop=x%20y')).toEqual({ name: 'login', role: null, shop: null });
    expect(matchRoute('/nowhere').name).toBe('notFound');
  });

  it('builds paths that it matches again', () => {
    expect(matchRoute(shopPath('S0001'))).toEqual({ name: 'shop', code: 'S0001' });
    expect(matchRoute(loginPath('owner', 'S0002'))).toEqual({ name: 'login', role: 'owner', shop: 'S0002' });
  });
});

describe('sync status', () => {
  it('offline wins, then errors and refusals, then pending', () => {
    expect(deriveStatus({ online: true }).state).toBe('synced');
    const waiting = deriveStatus({ online: true, pendingDocs: 3, pendingPhotos: 1 });
    expect(waiting).toMatchObject({ state: 'pending', pending: 4, pendingDocs: 3, pendingPhotos: 1 });
    expect(deriveStatus({ online: false, pendingDocs: 4, error: 'x' })).toMatchObject({ state: 'offline', pending: 4 });
    expect(deriveStatus({ online: true, pendingDocs: 1, error: 'forbidden' })).toMatchObject({
      state: 'error',
      pending: 1,
      detail: 'forbidden',
    });
  });

  it('tells a server that does not answer from a phone without signal', () => {
    expect(deriveStatus({ online: false, pendingDocs: 2 }).unreachable).toBeUndefined();
    expect(deriveStatus({ online: false, pendingDocs: 2, unreachable: true })).toMatchObject({
      state: 'offline',
      unreachable: true,
      pending: 2,
    });
  });

  it("says why replication is stuck, in the phone's words when the server's storage is full", () => {
    expect(deriveStatus({ online: true, error: 'unauthorized' })).toMatchObject({ state: 'error', problem: 'unauthorized' });
    expect(deriveStatus({ online: true, refused: 2 }).problem).toBeUndefined(); // refusals are listed one by one
    expect(describeSyncError({ status: 507, reason: "The server's storage is full" })).toBe(
      '服务器存储空间已满。记录都保存在本机，稍后会自动重新上传。',
    );
    expect(describeSyncError({ status: 500, reason: 'The server could not complete the request.' })).toBe(
      'The server could not complete the request.',
    );
    expect(describeSyncError({ id: 'S0001:photo:x', reason: 'too big' })).toBe('S0001:photo:x: too big');
    expect(describeSyncError(null)).toBe('unknown error');
  });

  it('a refused document is an error, not silently synced', () => {
    expect(deriveStatus({ online: true, refused: 1 }).state).toBe('error');
    expect(deriveStatus({ online: true, refused: 0, pendingPhotos: 2 }).state).toBe('pending');
  });

  it('photos alone keep it pending', () => {
    expect(deriveStatus({ online: true, pendingPhotos: 1 })).toMatchObject({ state: 'pending', pending: 1 });
  });

  it('is not synced while the download catches up, and says how much is left when the server tells', () => {
    expect(deriveStatus({ online: true, pulling: true })).toMatchObject({ state: 'pulling', toPull: null });
    expect(deriveStatus({ online: true, pulling: true, toPull: 340 })).toMatchObject({ state: 'pulling', toPull: 340 });
    expect(deriveStatus({ online: true, pulling: false, toPull: 340 })).toMatchObject({ state: 'synced', toPull: null });
    // What waits to go up matters more to the user; offline and errors win as before.
    expect(deriveStatus({ online: true, pulling: true, pendingDocs: 2 }).state).toBe('pending');
    expect(deriveStatus({ online: false, pulling: true }).state).toBe('offline');
    expect(deriveStatus({ online: true, pulling: true, refused: 1 }).state).toBe('error');
  });
});

describe('replication settings', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('pulls 500 changes per request, within what the gateway takes in one _bulk_get', () => {
    expect(PULL_BATCH_SIZE).toBe(500);
  });

  it('adds the Bearer token and keeps PouchDB\'s own headers', async () => {
    const seen: Headers[] = [];
    vi.stubGlobal('fetch', async (_url: string | Request, opts?: RequestInit) => {
      seen.push(new Headers(opts?.headers));
      return new Response('{}');
    });
    const headers = new Headers({ Accept: 'application/json' });
    await bearerFetch('tok.en')('https://example.test/sync/_changes', { method: 'GET', headers });
    expect(seen[0]?.get('Authorization')).toBe('Bearer tok.en');
    expect(seen[0]?.get('Accept')).toBe('application/json');
  });

  it('syncs with /sync/ under the base URL', () => {
    expect(syncUrl('https://example.test')).toBe('https://example.test/sync/');
    expect(syncUrl('https://example.test/')).toBe('https://example.test/sync/');
  });

  it('backs off from 1 s to at most a minute', () => {
    expect(backOff(0)).toBe(1000);
    expect(backOff(1000)).toBe(2000);
    expect(backOff(50_000)).toBe(60_000);
  });
});
