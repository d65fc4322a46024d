// @vitest-environment happy-dom
// The overview on the 1st of a month (found by a usability audit): the month's figures are a few hours old, so they
// are not set against last year's whole 1 December in red (every card read −100%); the trend's last month says it is
// counted so far, each point says its value, and the self-check line says it is the weekly coverage's mean.
import { beforeEach, describe, expect, it, vi } from 'vitest';

let asOf = '2026-12-01';
let registered = 1500;
/** Months the trend answers before its three (the month a year before last month, asked for by the overview). */
let yearBefore: unknown[] = [];

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    const url = new URL(path, 'http://office.test');
    if (url.pathname === '/api/office/communities') return [];
    if (url.pathname === '/api/office/summary') {
      return {
        as_of: asOf,
        patrol_coverage_month: 0,
        hazards_found_month: 0,
        rectification_rate: null,
        shops_active: Math.min(registered, 1500),
        shops_registered: registered,
        self_check_coverage_week: 0.099,
        open_alarms: 7,
        overdue_hazards: 125,
        last_year: { patrol_coverage_month: 0.04, hazards_found_month: 9, rectification_rate: 0.5, shops_active: 1400, self_check_coverage_week: 0.3, open_alarms: 2, overdue_hazards: 10 },
        by_community: [{ id: 'wensan', name: '文三社区', patrol_coverage_month: 0 }],
        by_grid: [{ id: 'g1', name: '文三一网格', patrol_coverage_month: asOf === '2026-12-01' ? 0 : 0.2 }],
      };
    }
    if (url.pathname === '/api/office/trend') {
      return {
        months: [
          ...yearBefore,
          { month: '2026-10', shops_active: 1500, patrol_rate: 0.9, self_check_coverage: 0.5, rectification_rate: 0.8, hazards_found: 240 },
          { month: '2026-11', shops_active: 1500, patrol_rate: 0.865, self_check_coverage: 0.51, rectification_rate: 0.852, hazards_found: 248 },
          { month: '2026-12', as_of: asOf, shops_active: 1500, patrol_rate: 0, self_check_coverage: 0.099, rectification_rate: null, hazards_found: 0 },
        ],
      };
    }
    throw new Error(`unexpected ${path}`);
  },
}));

beforeEach(() => document.body.replaceChildren());

async function screen(query = ''): Promise<HTMLElement> {
  const { overview } = await import('../src/office/overview');
  const root = overview(new URLSearchParams(query), []);
  document.body.append(root);
  await vi.waitFor(() => expect(root.querySelector('[data-figure=overdue_hazards]')).not.toBeNull());
  await vi.waitFor(() => expect(root.querySelector('svg.line-chart')).not.toBeNull());
  return root;
}

const lastYear = (root: HTMLElement, key: string): string => root.querySelector(`[data-figure=${key}] .last-year`)!.textContent ?? '';

describe('the overview on the first day of a month', () => {
  it('does not compare the month’s figures with last year yet, and says so; the day’s figures it does', async () => {
    const root = await screen();
    expect(lastYear(root, 'patrol_coverage_month')).toBe('去年同期 4.0%（本月今日刚开始，明日起比较）');
    expect(root.querySelector('[data-figure=hazards_found_month] .delta')).toBeNull();
    expect(root.querySelector('[data-figure=overdue_hazards] .delta')!.textContent).toBe('+1150%');
    // 1 December 2026 is a Tuesday: the week began yesterday, and is compared.
    expect(root.querySelector('[data-figure=self_check_coverage_week] .delta')).not.toBeNull();
    // No patrol anywhere yet: a line instead of the empty bars; the tables stay.
    await vi.waitFor(() => expect(root.querySelector('[data-no-patrol=grid]')).not.toBeNull());
    expect(root.querySelector('[data-no-patrol=grid]')!.textContent).toBe('本月尚无巡查：各单位巡查率均为 0。');
    expect(root.querySelector('svg.bar-chart')).toBeNull();
    expect(root.querySelector('[data-breakdown=grid] tbody tr')).not.toBeNull();
  });

  it('compares again from the 2nd, and a week from its Tuesday', async () => {
    const { firstDay } = await import('../src/office/overview');
    expect(firstDay('patrol_coverage_month', '2026-12-02')).toBe(false);
    expect(firstDay('self_check_coverage_week', '2026-11-30')).toBe(true); // a Monday
    expect(firstDay('self_check_coverage_week', '2026-12-01')).toBe(false);
    expect(firstDay('open_alarms', '2026-12-01')).toBe(false); // counted on the day, not over the month
    asOf = '2026-12-02';
    const root = await screen();
    expect(root.querySelector('[data-figure=patrol_coverage_month] .delta')).not.toBeNull();
    await vi.waitFor(() => expect(root.querySelector('svg.bar-chart')).not.toBeNull()); // a patrol: the bars
    asOf = '2026-12-01';
  });

  it('labels the trend’s last month as counted so far, gives each point its value, and names the weekly mean', async () => {
    const root = await screen();
    const chart = root.querySelector('svg.line-chart')!;
    expect([...chart.querySelectorAll('text.tick')].map((t) => t.textContent)).toContain('26-12（至今）');
    const titles = [...chart.querySelectorAll('circle title')].map((t) => t.textContent);
    expect(titles).toContain('26-11 巡查率 87%');
    expect(titles).toContain('26-12（至今） 周自查覆盖率（月均） 10%');
    expect(chart.querySelector('[data-series="周自查覆盖率（月均）"]')).not.toBeNull();
    // The running month is drawn faint: its piece of line and its point; the label ends at its point.
    const patrol = chart.querySelector('[data-series="巡查率"]')!;
    expect(patrol.querySelectorAll('polyline.partial')).toHaveLength(1);
    expect(patrol.querySelectorAll('circle.partial')).toHaveLength(1);
    expect([...chart.querySelectorAll('text.tick')].find((t) => t.textContent === '26-12（至今）')!.getAttribute('text-anchor')).toBe('end');
  });

  it('draws the hazards on whole ticks, and the rates in quarters', async () => {
    const root = await screen();
    const [rates, hazards] = [...root.querySelectorAll('svg.line-chart')];
    const ticks = (chart: Element | undefined) => [...chart!.querySelectorAll('text[data-y-tick]')].map((t) => t.textContent);
    expect(ticks(hazards)).toEqual(['0', '50', '100', '150', '200', '250']);
    expect(ticks(rates)).toEqual(['0%', '25%', '50%', '75%', '100%']);
  });
});

describe('the overview in a month’s first days', () => {
  it('sets last month’s three figures, whole, beside the same month last year, as the monthly report does', async () => {
    yearBefore = [{ month: '2025-11', as_of: '2025-11-30', patrol_rate: 0.498, rectification_rate: 0.792, hazards_found: 185 }];
    try {
      const root = await screen();
      await vi.waitFor(() => expect(root.querySelector('[data-last-month="2026-11"]')).not.toBeNull());
      const box = root.querySelector<HTMLElement>('[data-last-month]')!;
      expect(box.querySelector('h2')!.textContent).toBe('上月（2026-11）与去年同期相比');
      const card = (key: string): string => box.querySelector(`[data-last-month-figure=${key}]`)!.textContent ?? '';
      expect(card('patrol_rate')).toBe('巡查率86.5%去年同期 49.8%+36.7 pt (+74%)');
      expect(card('hazards_found')).toBe('发现隐患248去年同期 185+34%');
      expect(card('rectification_rate')).toBe('整改率85.2%去年同期 79.2%+6.0 pt (+8%)');
      // Above the trend.
      expect(box.compareDocumentPosition(root.querySelector('svg.line-chart')!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();

      asOf = '2026-12-08'; // the first week is over: this month's own figures are the ones to read
      const later = await screen();
      expect(later.querySelector('[data-last-month]')).toBeNull();
    } finally {
      yearBefore = [];
      asOf = '2026-12-01';
    }
  });
});

describe('the overview of a sub-district with no shops yet', () => {
  it('shows the first steps above the figures, each leading to its section of the registry, in Chinese then English', async () => {
    registered = 0;
    try {
      const root = await screen();
      const block = root.querySelector<HTMLElement>('[data-first-steps]')!;
      expect(block.querySelector('h2')!.textContent).toBe('开始使用：本街道还没有登记店铺');
      const steps = [...block.querySelectorAll<HTMLAnchorElement>('li[data-step] > a')];
      expect(steps.map((a) => a.textContent)).toEqual(['导入店铺普查表', '设网格与网格员', '打印店铺二维码']);
      // Each opens the registry at its section (tests/office-first-steps.test.ts: scrolled to and focused there).
      expect(steps.map((a) => a.getAttribute('href'))).toEqual(
        ['import', 'grids', 'posters'].map((section) => `/office/registry?section=${section}`));
      expect(block.compareDocumentPosition(root.querySelector('[data-figure=shops_active]')!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
      // A community chosen is not the sub-district: no steps there.
      expect((await screen('community=wensan')).querySelector('[data-first-steps]')).toBeNull();
      const { setLang } = await import('../src/i18n');
      setLang('en');
      try {
        const english = (await screen()).querySelectorAll('[data-first-steps] li[data-step] > a');
        expect([...english].map((a) => a.textContent)).toEqual(
          ['Import the shop survey', 'Set up grids and grid workers', "Print the shops' QR codes"]);
      } finally {
        setLang('zh-CN');
      }
    } finally {
      registered = 1500;
    }
  });

  it('shows none once a shop is registered', async () => {
    const root = await screen();
    expect(root.querySelector('[data-first-steps]')).toBeNull();
  });
});
