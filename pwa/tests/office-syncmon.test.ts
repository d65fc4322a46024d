// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';
import { failuresBlock, type MonitorAnswer, monitorSummary } from '../src/office/syncmon';

// What the gateway says of a check from a phone whose clock is ahead (server/sync/validate.py), Chinese first.
const CLOCK = '记录时间比服务器快 10 分钟以上，请把手机时间设为自动。'
  + "performed_at is more than 10 minutes ahead of the server clock; check the phone's clock";

// The monitor as the server answers it: Li's phone never reported (his last patrol was 4 days ago), Zhou's old phone
// is silent while he syncs from his new one; the owner's phone reported 5 days ago but delivered a self-check today.
const MONITOR: MonitorAnswer = {
  limit: 50,
  offset: { users: 0, devices: 0 },
  total: { users: 3, devices: 3 },
  counts: {
    users: { all: 4, seen: 3, silent: 1, waiting: 1, refused: 0, problems: 2 },
    devices: { all: 3, seen: 3, silent: 1, waiting: 1, refused: 0, problems: 1, silent_waiting: 1 },
  },
  devices: [
    { device: 'd-zhou-old', user_id: 'grid:zhou', name: '周明', pending_docs: 2, silent: true, silent_days: 9 },
    { device: 'd-zhou-new', user_id: 'grid:zhou', name: '周明', silent: false, silent_days: 0.1 },
    { device: 'd-s0001', user_id: 'owner:S0001', shop: 'S0001', shop_name: '老王面馆', silent: false, silent_days: 0.2 },
  ],
  users: [
    { user_id: 'grid:li', name: '李强', silent: true, last_event_at: '2026-11-25T10:00:00+08:00' },
    { user_id: 'grid:zhou', name: '周明', silent: false, refused: 1, last_refused: { reason: CLOCK } },
    { user_id: 'owner:S0001', shop: 'S0001', shop_name: '老王面馆', silent: false },
  ],
  people: {},
  backup: { kind: 'couchdb' },
  projection_failures: [],
};

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    if (path.startsWith('/api/office/sync-monitor')) return MONITOR;
    if (path.startsWith('/api/office/quarantine')) {
      const refused = { _id: 'quarantine:refused:1', type: 'refused', user: 'grid:zhou', device: 'd-zhou-new', reason: CLOCK };
      return { items: [{ ...refused, doc_id: 'S0002:patrol:01KB' }], next: null };
    }
    throw new Error(`unexpected ${path}`);
  },
}));
vi.mock('../src/office/people', () => ({ staffNames: async () => new Map() }));

afterEach(() => {
  setLang('zh-CN');
  document.body.replaceChildren();
});

describe('the sync monitor’s line above its lists', () => {
  it('counts the devices and the users silent as their rows are marked', async () => {
    const { syncMonitor } = await import('../src/office/syncmon');
    const root = syncMonitor(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-table=sync-users] tbody tr')).toHaveLength(3));
    await vi.waitFor(() => expect(root.querySelector('[data-summary]')!.textContent).not.toBe(''));
    expect(root.querySelector('[data-summary]')!.textContent).toBe(
      '共 3 台设备，1 台超过 3 天未同步，其中 1 台仍有数据待上传；3 位用户中 1 位超过 3 天未同步');
    // The whole of both lists is on the page: the line's figures are the rows marked silent in them.
    expect(root.querySelectorAll('[data-table=devices] tbody tr[data-silent]')).toHaveLength(1);
    const silentUsers = [...root.querySelectorAll('[data-table=sync-users] tbody tr[data-silent]')];
    expect(silentUsers.map((tr) => tr.textContent)).toEqual([expect.stringContaining('李强')]);
  });

  it('counts the page’s rows the same way when the server gives no counts, and says it in English too', () => {
    const { counts: _, ...page } = MONITOR;
    expect(monitorSummary(page)).toBe('共 3 台设备，1 台超过 3 天未同步，其中 1 台仍有数据待上传；3 位用户中 1 位超过 3 天未同步');
    setLang('en');
    expect(monitorSummary(MONITOR)).toBe(
      '3 devices; 1 silent for more than 3 days, 1 of them with data still waiting; 1 of 3 users silent for more than 3 days');
  });
});

describe('the sync monitor’s refused documents', () => {
  it('says why in the screen’s language: the Chinese part of the reason, or the English one', async () => {
    const { syncMonitor } = await import('../src/office/syncmon');
    const reasons = async () => {
      const root = syncMonitor(new URLSearchParams(), []);
      document.body.replaceChildren(root);
      await vi.waitFor(() => expect(root.querySelectorAll('[data-table=quarantine] tbody tr')).toHaveLength(1));
      const zhou = [...root.querySelectorAll('[data-table=sync-users] tbody tr')].find((tr) => tr.textContent?.includes('周明'));
      return [zhou?.lastElementChild?.textContent, root.querySelector('[data-table=quarantine] tbody tr')?.lastElementChild?.textContent];
    };
    const zh = '记录时间比服务器快 10 分钟以上，请把手机时间设为自动。';
    expect(await reasons()).toEqual([zh, zh]);
    setLang('en');
    const en = "performed_at is more than 10 minutes ahead of the server clock; check the phone's clock";
    expect(await reasons()).toEqual([en, en]);
  });
});

describe('the sync monitor on shops whose points cannot be computed', () => {
  it('names each shop with the error, the tries and whether it is paused; says nothing when there are none', () => {
    expect(failuresBlock([])).toBeNull();
    const block = failuresBlock([
      { shop: 'S0002', name: '小吃店', tries: 2, parked: false, error: 'OverflowError: date value out of range', at: '2026-11-29T12:00:00+00:00' },
      { shop: 'S0009', name: null, tries: 5, parked: true, error: 'KeyError: x', at: '2026-11-29T12:01:00+00:00' },
    ]);
    expect(block?.getAttribute('role')).toBe('alert');
    expect(block?.textContent).toContain('有 2 家店铺的积分、隐患和报警暂时无法更新');
    const rows = [...(block?.querySelectorAll('[data-shop]') ?? [])].map((row) => row.textContent ?? '');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('S0002 小吃店');
    expect(rows[0]).toContain('OverflowError: date value out of range');
    expect(rows[0]).toContain('已试 2 次，稍后再试');
    expect(rows[1]).toContain('已试 5 次，暂停');
  });
});
