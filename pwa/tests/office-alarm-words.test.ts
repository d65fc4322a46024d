// @vitest-environment happy-dom
// One figure, one name (found by a usability audit): the overview's 未办结报警 counts every alarm not resolved (待处理,
// 已确认, 已派单), and the alarm desk named no such figure while the menu's count beside it, of the alarms not yet
// acknowledged only, was called 待处理报警. The desk now says 未办结报警 over the same three statuses, and the menu's
// count says it is of those not yet acknowledged, in both languages.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';

const COUNTS = { open: 3, acknowledged: 2, dispatched: 1, resolved: 40 };

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    const url = new URL(path, 'http://office.test');
    if (url.pathname === '/api/office/communities') return [];
    if (url.pathname === '/api/office/summary') {
      return { as_of: '2026-12-10', shops_registered: 3, open_alarms: 6, last_year: { open_alarms: 2 } };
    }
    if (url.pathname === '/api/office/trend') return { months: [] };
    if (url.pathname === '/api/office/alarms') return { items: [], next: null, counts: COUNTS };
    throw new Error(`unexpected ${path}`);
  },
}));
vi.mock('../src/office/people', () => ({
  staffNames: async () => new Map(),
  gridCrews: async () => new Map(),
  personName: (_: unknown, id: string) => id,
}));
vi.mock('../src/office/shops', () => ({ checklistItems: async () => new Map() }));
vi.mock('../src/office/watch', () => ({ listen: () => undefined }));

afterEach(() => {
  setLang('zh-CN');
  document.body.replaceChildren();
});

async function overviewFigure(): Promise<HTMLElement> {
  const { overview } = await import('../src/office/overview');
  const root = overview(new URLSearchParams(), []);
  document.body.append(root);
  await vi.waitFor(() => expect(root.querySelector('[data-figure=open_alarms]')).not.toBeNull());
  return root.querySelector<HTMLElement>('[data-figure=open_alarms]')!;
}

async function deskTab(): Promise<HTMLElement> {
  const { alarms } = await import('../src/office/alarms');
  const root = alarms(new URLSearchParams(), []);
  document.body.append(root);
  await vi.waitFor(() => expect(root.querySelector('.tabs a[data-count]')).not.toBeNull());
  return root.querySelector<HTMLElement>('.tabs a[data-count]')!;
}

describe('the alarms not resolved', () => {
  it('are named 未办结报警 on the overview and on the alarm desk, which counts the same three statuses', async () => {
    const figure = await overviewFigure();
    expect(figure.querySelector('h3')!.textContent).toBe('未办结报警');
    expect(figure.querySelector('h3')!.title).toBe('待处理、已确认和已派单的报警，即尚未办结的');
    expect(figure.dataset.value).toBe('6');
    const tab = await deskTab();
    expect(tab.textContent).toBe('未办结报警 6（待处理 3 · 已确认 2 · 已派单 1）');
    expect(tab.dataset.count).toBe(figure.dataset.value);
  });

  it('are named alike in English too', async () => {
    setLang('en');
    const figure = await overviewFigure();
    expect(figure.querySelector('h3')!.textContent).toBe('Alarms not yet resolved');
    const tab = await deskTab();
    expect(tab.textContent).toMatch(/^Alarms not yet resolved 6 \(/);
  });

  it('are not what the menu counts beside the desk: that count says it is of the alarms not yet acknowledged', async () => {
    const { ot } = await import('../src/office/i18n');
    expect(ot('alarms.openCount')).toBe('待处理报警（尚未确认）');
    expect(ot('alarms.openCount')).not.toBe(ot('overview.openAlarms'));
    setLang('en');
    expect(ot('alarms.openCount')).toBe('Alarms not yet acknowledged');
  });
});
