// @vitest-environment happy-dom
// The overview's charts said nothing of what they show but to a pointer's hover (an SVG <title>): each now has a
// caption, its title, unit and period, in both languages, the same words its accessible name, and the trend's values
// in a table folded under it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    const url = new URL(path, 'http://office.test');
    if (url.pathname === '/api/office/communities') return [{ id: 'wensan', name: '文三社区' }];
    if (url.pathname === '/api/office/summary') {
      return {
        as_of: '2026-12-10',
        shops_registered: 3,
        patrol_coverage_month: 0.4,
        by_community: [{ id: 'wensan', name: '文三社区', patrol_coverage_month: 0.4 }],
        by_grid: [{ id: 'g1', name: '文三一网格', patrol_coverage_month: 0.4 }],
      };
    }
    if (url.pathname === '/api/office/trend') {
      return {
        months: [
          { month: '2026-10', patrol_rate: 0.9, self_check_coverage: 0.5, rectification_rate: 0.8, hazards_found: 240 },
          { month: '2026-11', patrol_rate: 0.865, self_check_coverage: 0.51, rectification_rate: null, hazards_found: 248 },
          { month: '2026-12', as_of: '2026-12-10', patrol_rate: 0.3, self_check_coverage: 0.2, rectification_rate: 0.5, hazards_found: 31 },
        ],
      };
    }
    throw new Error(`unexpected ${path}`);
  },
}));
vi.mock('../src/office/watch', () => ({ listen: () => undefined }));

afterEach(() => {
  setLang('zh-CN');
  document.body.replaceChildren();
});

async function screen(): Promise<HTMLElement> {
  const { overview } = await import('../src/office/overview');
  const root = overview(new URLSearchParams(), []);
  document.body.append(root);
  await vi.waitFor(() => expect(root.querySelectorAll('svg.line-chart')).toHaveLength(2));
  await vi.waitFor(() => expect(root.querySelectorAll('svg.bar-chart')).toHaveLength(2));
  return root;
}

const figures = (root: HTMLElement): HTMLElement[] => [...root.querySelectorAll<HTMLElement>('figure.chart-figure')];

describe('the overview’s charts', () => {
  it('each say what they show, in what unit, over which period, above the chart and as its accessible name', async () => {
    const root = await screen();
    const [rates, hazards] = [...root.querySelectorAll('.trend-box figure.chart-figure')];
    expect(rates!.querySelector('figcaption')!.textContent).toBe(
      '巡查率、自查覆盖率与整改率 单位：% · 2026-10 至 2026-12，2026-12 计至 2026-12-10');
    expect(hazards!.querySelector('figcaption')!.textContent).toBe(
      '每月发现隐患 单位：项 · 2026-10 至 2026-12，2026-12 计至 2026-12-10');
    expect(hazards!.querySelector('svg')!.getAttribute('aria-label')).toBe(
      '每月发现隐患，单位：项，2026-10 至 2026-12，2026-12 计至 2026-12-10。每月的数值见图下的数据表。');
    const bars = root.querySelector('[data-breakdown=community]')!.closest('section')!.querySelector('figure.chart-figure')!;
    expect(bars.querySelector('figcaption')!.textContent).toBe('按社区 · 本月巡查率 单位：% · 2026-12，计至 2026-12-10');
    expect(bars.querySelector('svg')!.getAttribute('aria-label')).toBe(
      '按社区 · 本月巡查率，单位：%，2026-12，计至 2026-12-10。各单位的数值见图下的表格。');
    expect(figures(root)).toHaveLength(4);
    for (const f of figures(root)) expect(f.querySelector('svg')!.getAttribute('role')).toBe('img');
  });

  it('give the trend’s values month by month in a table folded under the chart', async () => {
    const root = await screen();
    const [rates, hazards] = [...root.querySelectorAll('.trend-box figure.chart-figure')];
    const folded = rates!.querySelector('details.chart-values')!;
    expect(folded.querySelector('summary')!.textContent).toBe('数据表');
    const table = folded.querySelector('table[data-chart-values]')!;
    expect([...table.querySelectorAll('thead th')].map((c) => c.textContent)).toEqual(['月份', '巡查率', '周自查覆盖率（月均）', '整改率']);
    expect([...table.querySelectorAll('tbody tr')].map((r) => r.textContent)).toEqual([
      '26-1090%50%80%', '26-1187%51%—', '26-12（至今）30%20%50%']);
    expect([...hazards!.querySelectorAll('tbody tr')].map((r) => [...r.children].map((c) => c.textContent))).toEqual([
      ['26-10', '240'], ['26-11', '248'], ['26-12（至今）', '31']]);
  });

  it('say it in English too', async () => {
    setLang('en');
    const root = await screen();
    const [rates] = [...root.querySelectorAll('.trend-box figure.chart-figure')];
    expect(rates!.querySelector('figcaption')!.textContent).toBe(
      'Patrol rate, self-check coverage and rectification rate Unit: percent · 2026-10 to 2026-12, 2026-12 counted to 2026-12-10');
    expect(rates!.querySelector('svg')!.getAttribute('aria-label')).toBe(
      'Patrol rate, self-check coverage and rectification rate, in percent, 2026-10 to 2026-12, 2026-12 counted to 2026-12-10. '
      + 'Each month\'s values are in the table under the chart.');
  });
});
