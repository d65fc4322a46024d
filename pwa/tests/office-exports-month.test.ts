// @vitest-environment happy-dom
// The month the exports screen opens on: a monthly report is made after the month, so the report and the rankings
// open on last month (this month so far still offered, and said so); on a month's first days, while the new month
// has hardly any records, the days of the checks and hazards are last month's too, with a line saying why.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const opened: string[] = [];
// The server's 404 for a month the sub-district has no list of (server/office/rankings.py `no_ranking`).
const NO_LIST = '幸福街道没有 2026-10 的红黑榜：本街道的榜单从 2026-11 起才有。No ranking of xingfu for 2026-10: its lists begin in 2026-11.';

vi.mock('../src/office/api', async (actual) => {
  const api = await actual<typeof import('../src/office/api')>();
  return {
    ...api,
    openInTab: async (path: string) => {
      opened.push(path);
    },
    download: async (path: string) => {
      if (path.includes('month=2026-10')) throw new api.ApiError(404, 'not_found', NO_LIST);
    },
  };
});
vi.mock('../src/office/reach', async (actual) => ({
  ...(await actual<typeof import('../src/office/reach')>()),
  ownSubdistrict: () => 'sd-1', // a sub-district's office: no choice of sub-district, no call for the names
}));

beforeEach(() => {
  opened.length = 0;
  document.body.replaceChildren();
});

afterEach(() => {
  vi.useRealTimers();
});

async function screen(): Promise<HTMLElement> {
  const { exports } = await import('../src/office/exports');
  const root = exports(new URLSearchParams(), []) as HTMLElement;
  document.body.append(root);
  return root;
}

const value = (root: HTMLElement, name: string): string =>
  root.querySelector<HTMLInputElement | HTMLSelectElement>(`[name=${name}]`)!.value;

describe('the days and the month the exports default to', () => {
  it('are last month in a month\'s first week, this month so far after it', async () => {
    const { defaultPeriod, reportMonths } = await import('../src/office/exports');
    const { monthBefore } = await import('../src/ulid');
    expect(defaultPeriod('2026-12-01')).toEqual({ from: '2026-11-01', to: '2026-11-30', lastMonth: true });
    expect(defaultPeriod('2027-01-07')).toEqual({ from: '2026-12-01', to: '2026-12-31', lastMonth: true });
    expect(defaultPeriod('2028-03-02')).toEqual({ from: '2028-02-01', to: '2028-02-29', lastMonth: true });
    expect(defaultPeriod('2026-12-08')).toEqual({ from: '2026-12-01', to: '2026-12-08', lastMonth: false });
    expect(monthBefore('2027-01')).toBe('2026-12');
    const months = reportMonths('2027-01-01', 3);
    expect(months).toEqual([['2027-01', '2027-01（本月至今）'], ['2026-12', '2026-12'], ['2026-11', '2026-11'], ['2026-10', '2026-10']]);
  });

  it('open on November on 1 December (Shanghai), say why, and the report asked for is November\'s', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-30T19:30:00Z') }); // 1 December, 03:30 in Shanghai
    const root = await screen();
    expect(value(root, 'month')).toBe('2026-11');
    const months = [...root.querySelectorAll<HTMLOptionElement>('select[name=month] option')];
    expect(months[0]?.value).toBe('2026-12'); // this month so far, still there to choose
    expect(months[0]?.textContent).toBe('2026-12（本月至今）');
    expect(root.querySelector('[data-last-month]')?.textContent).toBe(
      '排名和月度报告默认为上月（2026-11，已结月）；本月至今（2026-12）可在“月份”中选择。',
    );
    expect([value(root, 'from'), value(root, 'to')]).toEqual(['2026-11-01', '2026-11-30']);
    expect(root.querySelector('[data-last-month-days]')?.textContent).toBe(
      '本月刚开始，记录还很少：日期默认为上月（2026-11-01 至 2026-11-30），导出本月请改日期。',
    );
    root.querySelector<HTMLElement>('[data-action=open-report]')!.click();
    await vi.waitFor(() => expect(opened).toEqual(['/api/office/reports/2026-11.html']));
  });

  it('turn to the new month at midnight in Shanghai (16:00 UTC)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-30T15:59:59.999Z') }); // 30 November, 23:59:59
    let root = await screen();
    expect([value(root, 'from'), value(root, 'to'), value(root, 'month')]).toEqual(['2026-11-01', '2026-11-30', '2026-10']);
    document.body.replaceChildren();
    vi.setSystemTime(new Date('2026-11-30T16:00:00.000Z')); // 1 December, 00:00
    root = await screen();
    expect([value(root, 'from'), value(root, 'to'), value(root, 'month')]).toEqual(['2026-11-01', '2026-11-30', '2026-11']);
    expect(root.querySelector('[data-last-month-days]')).not.toBeNull();
  });

  it('keep this month\'s days past its first week, the report still on last month', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-15T02:00:00Z') });
    const root = await screen();
    expect([value(root, 'from'), value(root, 'to')]).toEqual(['2026-12-01', '2026-12-15']);
    expect(root.querySelector('[data-last-month-days]')).toBeNull();
    expect(value(root, 'month')).toBe('2026-11');
  });
});

describe('a rankings export the server cannot make', () => {
  it('says why on the screen, in the server\'s words (English in English)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-20T02:00:00Z') });
    const root = await screen();
    expect(value(root, 'month')).toBe('2026-10'); // last month: the sub-district's first list is this month's
    root.querySelector<HTMLElement>('[data-export=rankings] button[data-format=xlsx]')!.click();
    const status = root.querySelector<HTMLElement>('.exports-list + .form-status')!;
    await vi.waitFor(() => expect(status.classList.contains('error')).toBe(true));
    expect(status.textContent).toBe('操作失败: 幸福街道没有 2026-10 的红黑榜：本街道的榜单从 2026-11 起才有。');
    const { setLang } = await import('../src/i18n');
    setLang('en');
    try {
      root.querySelector<HTMLElement>('[data-export=rankings] button[data-format=csv]')!.click();
      await vi.waitFor(() => expect(status.textContent).toBe('Failed: No ranking of xingfu for 2026-10: its lists begin in 2026-11.'));
    } finally {
      setLang('zh-CN');
    }
  });
});
