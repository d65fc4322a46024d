// @vitest-environment happy-dom
// The checklist editor on a 1366 px (or 1024 px) desk: an item's long Chinese label was cut off at the end of a
// one-line field, with no way to read it but to scroll inside it. The labels are boxes that wrap (a one-line input
// cannot), as tall as their text (office.css: `field-sizing: content`; the height itself only a browser can show), and
// still one line of text for the server.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const css = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../src/office/office.css'), 'utf8');
const LONG = '燃气瓶/管道及报警器是否安全，软管是否老化、龟裂或超过使用年限，是否使用合格的减压阀';
const TEMPLATE = {
  _id: 'district:template:fire-gas',
  version: 1,
  title: { zh: '消防燃气', en: 'Fire and gas' },
  categories: ['*'],
  items: [{ id: 'gas_safe', label_zh: LONG, label_en: 'Gas cylinders, hoses and alarm safe', answer: 'yes_no',
    hazard_when: { equals: false }, severity: 'serious' }],
};
let scoped = false;
const saved: Record<string, unknown>[] = [];

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    if (path === '/api/office/rules') return { rules: { _id: 'district:rules', version: 1, effective_from: '2026-01-01' }, changes: [] };
    if (path === '/api/office/templates') return { items: [TEMPLATE], available: [] };
    throw new Error(`unexpected ${path}`);
  },
}));
vi.mock('../src/office/people', () => ({ staffNames: async () => new Map() }));
vi.mock('../src/office/reach', async (actual) => ({
  ...(await actual<typeof import('../src/office/reach')>()),
  isScoped: () => scoped,
}));

afterEach(() => {
  scoped = false;
  vi.unstubAllGlobals();
  document.body.replaceChildren();
});

async function editor(): Promise<HTMLFormElement> {
  const { rules } = await import('../src/office/rules');
  const root = rules(new URLSearchParams(), []);
  document.body.append(root);
  await vi.waitFor(() => expect(root.querySelector('[data-form=template] tr[data-item-row=gas_safe]')).not.toBeNull());
  return root.querySelector<HTMLFormElement>('[data-form=template]')!;
}

describe('an item’s labels in the checklist editor', () => {
  it('are boxes that wrap, holding the whole label, in both languages', async () => {
    const form = await editor();
    const zh = form.querySelector<HTMLTextAreaElement>('tr[data-item-row=gas_safe] [name=label_zh]')!;
    const en = form.querySelector<HTMLTextAreaElement>('tr[data-item-row=gas_safe] [name=label_en]')!;
    expect(zh.tagName).toBe('TEXTAREA');
    expect(en.tagName).toBe('TEXTAREA');
    expect(zh.value).toBe(LONG);
    expect(zh.getAttribute('aria-label')).toBe('检查项（中文）');
    expect(zh.required).toBe(true);
    expect(zh.maxLength).toBe(200);
    // office.css sizes them to their text and lets the text wrap.
    const rule = /\.items-table textarea\[name='label_zh'\][^{]*\{([^}]*)\}/.exec(css)?.[1] ?? '';
    expect(rule).toContain('field-sizing: content');
    expect(rule).not.toContain('nowrap');
  });

  it('take no line break: Enter adds none, and one pasted in is saved as a space', async () => {
    const form = await editor();
    const zh = form.querySelector<HTMLTextAreaElement>('[name=label_zh]')!;
    const enter = new KeyboardEvent('keydown', { key: 'Enter', cancelable: true, bubbles: true });
    zh.dispatchEvent(enter);
    expect(enter.defaultPrevented).toBe(true);
    vi.stubGlobal('fetch', async (_path: string, init: RequestInit) => {
      saved.push(JSON.parse(String(init.body)) as Record<string, unknown>);
      return new Response(JSON.stringify({ ...TEMPLATE, version: 2 }), { status: 200 });
    });
    zh.value = '燃气瓶是否安全，\n软管是否老化';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect((saved[0]!.items as { label_zh: string }[])[0]!.label_zh).toBe('燃气瓶是否安全， 软管是否老化');
  });

  it('read by a sub-district’s office are shown whole too, and cannot be changed', async () => {
    scoped = true;
    const form = await editor();
    const zh = form.querySelector<HTMLTextAreaElement>('[name=label_zh]')!;
    expect(zh.tagName).toBe('TEXTAREA');
    expect(zh.value).toBe(LONG);
    expect(zh.disabled).toBe(true);
  });
});
