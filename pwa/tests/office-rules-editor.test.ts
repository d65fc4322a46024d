// @vitest-environment happy-dom
// The rules editor: a new version is in force from today unless the officer picks another day; one in force from a
// day already past scores every shop again from that day, so the form says so while it holds such a day, and asks
// before saving it; the refusal of a checklist's unknown category.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';
import { explainReason, fieldErrors, fieldReason, rulesForm, startsBeforeToday, todayIn } from '../src/office/rules';

const RULES = {
  _id: 'district:rules',
  type: 'rules',
  schema: 1,
  version: 3,
  effective_from: '2026-01-01',
  timezone: 'Asia/Shanghai',
  start_points: 100,
  hazard_cost: { general: 2, major: 5, serious: 10 },
};
const NOW = new Date('2026-11-29T18:00:00Z'); // 30 November in Shanghai (02:00), 29 November in UTC

let sent: { method: string; path: string; body: Record<string, unknown> }[] = [];

beforeEach(() => {
  sent = [];
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  vi.stubGlobal('fetch', async (path: string, init: RequestInit) => {
    sent.push({ method: String(init.method), path, body: JSON.parse(String(init.body)) as Record<string, unknown> });
    return new Response(JSON.stringify({ rules: RULES, changes: [] }), { status: 200 });
  });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  document.body.replaceChildren();
  setLang('zh-CN');
});

function form(rules: Record<string, unknown> = RULES): HTMLFormElement {
  const root = rulesForm({ rules, changes: [] }, new Map(), () => undefined, true);
  document.body.append(root);
  return root.querySelector<HTMLFormElement>('form[data-form="rules"]')!;
}

function set(f: HTMLFormElement, name: string, value: string): void {
  const el = f.elements.namedItem(name) as HTMLInputElement;
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

const warning = (f: HTMLFormElement): HTMLElement => f.querySelector<HTMLElement>('[data-warning="past-effective-from"]')!;
const save = async (f: HTMLFormElement): Promise<void> => {
  f.dispatchEvent(new Event('submit', { cancelable: true }));
  await new Promise((r) => setTimeout(r, 0)); // the answer of a call sent, if any
};

describe('the day a rules version is in force from', () => {
  it('is compared with today where the rules count days (Asia/Shanghai), not on the device', () => {
    expect(todayIn('Asia/Shanghai', NOW)).toBe('2026-11-30');
    expect(todayIn('UTC', NOW)).toBe('2026-11-29');
    expect(startsBeforeToday('2026-11-29', 'Asia/Shanghai', NOW)).toBe(true);
    expect(startsBeforeToday('2026-11-30', 'Asia/Shanghai', NOW)).toBe(false);
    expect(startsBeforeToday('2026-12-01', 'Asia/Shanghai', NOW)).toBe(false);
    expect(startsBeforeToday('2026-11-29', 'UTC', NOW)).toBe(false);
    expect(startsBeforeToday('not a day', 'Asia/Shanghai', NOW)).toBe(false);
  });

  it('offers today (Shanghai) as the day a new version is in force from, not the current version\'s 1 January', () => {
    const f = form();
    expect((f.elements.namedItem('effective_from') as HTMLInputElement).value).toBe('2026-11-30');
    expect(warning(f).hidden).toBe(true); // today scores nothing again: no warning
    expect(f.querySelector('[data-effective-default]')?.textContent).toBe(
      '生效日期默认为今天：新版本从今天起计分，此前的积分不变（现行第 3 版自 2026-01-01 起生效）。',
    );
    // A version already set for a later day (next year's rules being prepared) keeps its day.
    const later = form({ ...RULES, effective_from: '2027-01-01' });
    expect((later.elements.namedItem('effective_from') as HTMLInputElement).value).toBe('2027-01-01');
    expect(later.querySelector('[data-effective-default]')).toBeNull();
  });

  it('saves a change from today without asking, and the form as it was as it was (no new version)', async () => {
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    const f = form();
    await save(f); // nothing changed but the day offered: the version's own day is sent, the server makes none
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]?.body).toMatchObject({ effective_from: '2026-01-01', start_points: 100 });
    set(f, 'start_points', '120');
    await save(f);
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(confirm).not.toHaveBeenCalled();
    expect(sent[1]?.body).toMatchObject({ effective_from: '2026-11-30', start_points: 120, version: 3 });
  });

  it('warns while the form holds a day already past, and asks before saving such a version', async () => {
    const f = form();
    set(f, 'effective_from', '2026-01-01'); // the current version's own day, chosen again
    expect(warning(f).hidden).toBe(false);
    expect(warning(f).textContent).toContain('生效日期 2026-01-01 早于今天：保存后将从该日起重新计分');
    set(f, 'effective_from', '2026-12-01');
    expect(warning(f).hidden).toBe(true);
    set(f, 'effective_from', '2026-11-29');
    expect(warning(f).hidden).toBe(false);

    // Declined: nothing is sent.
    const asked: string[] = [];
    vi.stubGlobal('confirm', (message: string) => (asked.push(message), false));
    set(f, 'start_points', '120');
    await save(f);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('2026-11-29');
    expect(sent).toEqual([]);

    // Confirmed: the version is saved as the form says.
    vi.stubGlobal('confirm', (message: string) => (asked.push(message), true));
    await save(f);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]?.method).toBe('PUT');
    expect(sent[0]?.body).toMatchObject({ effective_from: '2026-11-29', start_points: 120, version: 3 });
  });

  it('saves a version in force from today or later without asking', async () => {
    const f = form();
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    set(f, 'effective_from', '2026-11-30');
    set(f, 'start_points', '120');
    await save(f);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(confirm).not.toHaveBeenCalled();
    expect(sent[0]?.body).toMatchObject({ effective_from: '2026-11-30', start_points: 120 });
  });
});

describe('a checklist module for a category no shop has', () => {
  it('is refused at the categories, said in the screen language', () => {
    const reason =
      "categories: 烧烤 is not a shop category (the survey's 烧烤 is the code food): name * (every shop) or " +
      'category codes such as food, retail';
    const [[path, message] = ['', '']] = fieldErrors(reason);
    expect(path).toBe('categories');
    expect(explainReason(message)).toBe('“烧烤”不是店铺类别（请勾选下列类别之一）');
  });
});

describe('a checklist refused or saved', () => {
  it('names the field by its place and name on the form, not its key', async () => {
    const { templateField } = await import('../src/office/rules');
    expect(templateField('items[2].id')).toBe('第 3 项 · 编号');
    expect(templateField('items[0].label_en')).toBe('第 1 项 · 检查项（英文）');
    expect(templateField('items[4]')).toBe('第 5 项');
    expect(templateField('items')).toBe('检查项');
    expect(templateField('categories')).toBe('适用店铺类别');
  });

  it('says the version saved once the form is drawn again', () => {
    const root = rulesForm({ rules: { ...RULES, version: 4 }, changes: [] }, new Map(), () => undefined, true, {
      id: 'district:rules',
      version: 4,
    });
    expect(root.querySelector('[data-form=rules] [data-saved="4"]')?.textContent).toBe('已保存 · 第 4 版');
    expect(rulesForm({ rules: RULES, changes: [] }, new Map(), () => undefined, true).querySelector('[data-saved]')).toBeNull();
  });
});

describe("the server's reasons in the editor", () => {
  const STALE =
    '您修改的是第 3 版，但已有人保存了第 4 版：请刷新页面，在新版本上重新修改' +
    '（version 3 was edited, but the current version is 4; reload and edit again）';

  async function savedOver(): Promise<string> {
    vi.stubGlobal('fetch', async () =>
      new Response(JSON.stringify({ error: 'conflict', reason: STALE }), { status: 409 }));
    const f = form();
    set(f, 'start_points', '120');
    await save(f);
    const summary = f.querySelector<HTMLElement>('.form-status')!;
    await vi.waitFor(() => expect(summary.className).toContain('error'));
    return summary.textContent ?? '';
  }

  it('says a version saved meanwhile in the screen language, whole, not as field errors', async () => {
    expect(await savedOver()).toBe('操作失败: 您修改的是第 3 版，但已有人保存了第 4 版：请刷新页面，在新版本上重新修改');
    setLang('en');
    expect(await savedOver()).toBe('Failed: version 3 was edited, but the current version is 4; reload and edit again');
  });

  it("says a checklist field's refusal in the screen language, without the path the form names", () => {
    const duplicate = '编号 fire_ext 与第 1 项重复，每个检查项须有自己的编号（items: every item needs its own id）';
    const empty = '必须填写（items[0].label_en: required field is missing）';
    expect(fieldReason('items[2].id', duplicate)).toBe('编号 fire_ext 与第 1 项重复，每个检查项须有自己的编号');
    expect(fieldReason('items[0].label_en', empty)).toBe('必须填写');
    expect(fieldReason('items[0].points', '不能超过 1000（less than or equal to 1000）')).toBe('不能大于 1000');
    setLang('en');
    expect(fieldReason('items[2].id', duplicate)).toBe('items: every item needs its own id');
    expect(fieldReason('items[0].label_en', empty)).toBe('required field is missing');
    expect(fieldReason('items[0].points', '不能超过 1000（less than or equal to 1000）')).toBe('must be at most 1000');
  });
});
