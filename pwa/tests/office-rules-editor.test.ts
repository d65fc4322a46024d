// @vitest-environment happy-dom
// The rules editor: a version in force from a day already past scores every shop again from that day, so the form
// says so while it holds such a day, and asks before saving it; the refusal of a checklist's unknown category.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { explainReason, fieldErrors, rulesForm, startsBeforeToday, todayIn } from '../src/office/rules';

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

  it('warns while the form holds a day already past, and asks before saving such a version', async () => {
    const f = form();
    // The current version's own day is past: a new version keeps it unless it is changed.
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
