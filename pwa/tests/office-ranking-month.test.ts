// @vitest-environment happy-dom
// The month the red/black list opens on: on the 1st the new month's list is a copy of the last one's standings, still
// moving, while the month just ended waits to be published and followed up: it opens on that one, and says so.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const asked: string[] = [];
let months: unknown[] = [];
const publishedMonths = new Set<string>();

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    asked.push(path);
    const url = new URL(path, 'http://office.test');
    if (url.pathname === '/api/office/rankings') return { months };
    if (url.pathname === '/api/office/ranking') {
      const month = url.searchParams.get('month');
      const published = publishedMonths.has(month ?? '') ? { by: 'office:zhang', at: '2026-12-01T10:00:00+08:00' } : null;
      return { month, published, of: 0, total: 0, offset: 0, limit: 50, counts: { red: 0, black: 0, none: 0, working_group: 0 }, entries: [] };
    }
    throw new Error(`unexpected ${path}`);
  },
  send: async (method: string, path: string) => {
    const published = /^\/api\/office\/rankings\/(\d{4}-\d{2})\/publish/.exec(path);
    if (method === 'POST' && published) publishedMonths.add(published[1]!);
    return {};
  },
}));
vi.mock('../src/office/people', () => ({ staffNames: async () => new Map(), personName: (_n: unknown, id: string) => id }));
vi.mock('../src/office/reach', async (actual) => ({
  ...(await actual<typeof import('../src/office/reach')>()),
  ownSubdistrict: () => null,
  subdistricts: async () => [],
}));

const published = { by: 'office:zhang', at: '2026-11-02T09:00:00+08:00' };

beforeEach(() => {
  asked.length = 0;
  publishedMonths.clear();
  vi.stubGlobal('confirm', () => true);
  document.body.replaceChildren();
  vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-30T19:30:00Z') }); // 1 December, 03:30 in Shanghai
});

describe('the month the ranking opens on', () => {
  it('is last month’s while this month’s is the newest and last month’s is not published', async () => {
    const { defaultMonth } = await import('../src/office/ranking');
    const dec = { month: '2026-12' };
    const nov = { month: '2026-11' };
    expect(defaultMonth([dec, nov], '2026-12-01')).toBe('2026-11');
    // Published: still last month's in this month's first week, while its black list is followed up; then the live one.
    expect(defaultMonth([dec, { ...nov, published }], '2026-12-01')).toBe('2026-11');
    expect(defaultMonth([dec, { ...nov, published }], '2026-12-07')).toBe('2026-11');
    expect(defaultMonth([dec, { ...nov, published }], '2026-12-08')).toBe('2026-12');
    expect(defaultMonth([dec, nov], '2026-12-20')).toBe('2026-11'); // not published yet: still the one to publish
    expect(defaultMonth([nov, { month: '2026-10' }], '2026-12-01')).toBe('2026-11'); // no snapshot of this month yet
    expect(defaultMonth([dec], '2026-12-01')).toBe('2026-12');
    expect(defaultMonth([], '2026-12-01')).toBe('');
  });

  it('opens on November on 1 December and says why, and on the month the address names', async () => {
    months = [{ month: '2026-12', published: null }, { month: '2026-11', published: null }];
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('[data-last-month]')).not.toBeNull());
    expect(root.querySelector<HTMLSelectElement>('select[name=month]')!.value).toBe('2026-11');
    expect(root.querySelector('[data-last-month]')!.textContent).toBe(
      '2026-11 的榜单已结月、尚未发布，先显示它；本月（2026-12）的榜单随积分变动，可在“月份”中选择。',
    );
    await vi.waitFor(() => expect(asked.some((p) => p.includes('month=2026-11'))).toBe(true));
    expect(asked.some((p) => p.includes('month=2026-12'))).toBe(false);

    document.body.replaceChildren();
    const chosen = ranking(new URLSearchParams('month=2026-12'), []);
    document.body.append(chosen);
    await vi.waitFor(() => expect(chosen.querySelector<HTMLSelectElement>('select[name=month]')?.value).toBe('2026-12'));
    expect(chosen.querySelector('[data-last-month]')).toBeNull();
  });

  it('stays on November in the first week once it is published, for its follow-ups, and says so', async () => {
    months = [{ month: '2026-12', published: null }, { month: '2026-11', published }];
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('[data-last-month]')).not.toBeNull());
    expect(root.querySelector<HTMLSelectElement>('select[name=month]')!.value).toBe('2026-11');
    expect(root.querySelector('[data-last-month]')!.textContent).toBe(
      '2026-11 的榜单已发布，本月前 7 天先显示它，便于记录黑榜跟进（约谈、专项检查）；本月（2026-12）的榜单随积分变动，可在“月份”中选择。',
    );
  });

  it('offers publishing once a month has ended: the month still running says from when, with no button', async () => {
    const { monthEnded, publishableFrom } = await import('../src/office/ranking');
    expect(monthEnded('2026-11', '2026-12-01')).toBe(true);
    expect(monthEnded('2026-12', '2026-12-01')).toBe(false);
    expect(publishableFrom('2026-12')).toBe('2027-01-01');
    expect(publishableFrom('2026-09')).toBe('2026-10-01');

    // November published on the 1st, December's list chosen: not to be published yet.
    months = [{ month: '2026-12', published: null }, { month: '2026-11', published }];
    const { ranking } = await import('../src/office/ranking');
    const running = ranking(new URLSearchParams('month=2026-12'), []);
    document.body.append(running);
    await vi.waitFor(() => expect(running.querySelector('[data-published]')).not.toBeNull());
    expect(running.querySelector('[data-action=publish]')).toBeNull();
    expect(running.querySelector('[data-not-ended="2026-12"]')!.textContent).toBe(
      '2026-12 尚未结月，榜单仍随积分变动：2027-01-01 起可以发布。',
    );

    document.body.replaceChildren();
    const ended = ranking(new URLSearchParams('month=2026-11'), []);
    document.body.append(ended);
    await vi.waitFor(() => expect(ended.querySelector('[data-published]')).not.toBeNull());
    expect(ended.querySelector('[data-action=publish]')).not.toBeNull();
    expect(ended.querySelector('[data-not-ended]')).toBeNull();
  });

  it('says the month is published once it is published from the screen, not 尚未发布 beside the month', async () => {
    months = [{ month: '2026-12', published: null }, { month: '2026-11', published: null }];
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('[data-action=publish]')).not.toBeNull());
    expect(root.querySelector('[data-last-month]')!.textContent).toContain('尚未发布');
    root.querySelector<HTMLButtonElement>('[data-action=publish]')!.click();
    await vi.waitFor(() => expect(root.querySelector('[data-published=true]')).not.toBeNull());
    // In the month's first days it stays first, for its black list's follow-ups, and the line says that now.
    expect(root.querySelector('[data-last-month]')!.textContent).toBe(
      '2026-11 的榜单已发布，本月前 7 天先显示它，便于记录黑榜跟进（约谈、专项检查）；本月（2026-12）的榜单随积分变动，可在“月份”中选择。',
    );
    expect(root.textContent).not.toContain('尚未发布');

    // Later in the month, once published, nothing keeps it first: the line goes.
    vi.setSystemTime(new Date('2026-12-19T19:30:00Z')); // 20 December in Shanghai
    publishedMonths.clear();
    document.body.replaceChildren();
    const later = ranking(new URLSearchParams(), []);
    document.body.append(later);
    await vi.waitFor(() => expect(later.querySelector('[data-action=publish]')).not.toBeNull());
    expect(later.querySelector('[data-last-month]')).not.toBeNull();
    later.querySelector<HTMLButtonElement>('[data-action=publish]')!.click();
    await vi.waitFor(() => expect(later.querySelector('[data-published=true]')).not.toBeNull());
    expect(later.querySelector('[data-last-month]')).toBeNull();
    expect(later.textContent).not.toContain('尚未发布');
  });
});
