// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import fireGas from '../../server/models/data/template-fire-gas.json';
import { buildChecklistForm, isHazard, pickTemplates, type Template } from '../src/checklist';
import { autosave, clearDraft, loadDraft } from '../src/drafts';

const template = fireGas as unknown as Template;

// Photos not on this device would be fetched from the server: there is none here.
vi.stubGlobal('fetch', async () => new Response(null, { status: 404 }));

function form(opts: Partial<Parameters<typeof buildChecklistForm>[1]> = {}) {
  const built = buildChecklistForm([template], { withPhotos: true, shop: 'S0001', ...opts });
  document.body.replaceChildren(built.node);
  return built;
}

describe('checklist forms', () => {
  it('names every input by its item id, with labels and a camera input per item', () => {
    const { node } = form();
    for (const item of template.items) {
      if (item.answer === 'yes_no') {
        const radios = node.querySelectorAll<HTMLInputElement>(`input[type=radio][name=${item.id}]`);
        // 不适用 where the template allows it: a shop without an extinguisher, or without gas.
        expect([...radios].map((r) => r.value)).toEqual(item.not_applicable ? ['true', 'false', 'na'] : ['true', 'false']);
      } else {
        expect(node.querySelector(`input[type=number][name=${item.id}]`)).not.toBeNull();
      }
      const photo = node.querySelector<HTMLInputElement>(`input[data-photo-for=${item.id}]`);
      expect(photo?.type).toBe('file');
      expect(photo?.getAttribute('capture')).toBe('environment');
    }
    for (const input of node.querySelectorAll('input')) {
      expect(node.querySelector(`label[for="${input.id}"]`), input.name || input.id).not.toBeNull();
    }
    expect(node.textContent).toContain('居住区域是否使用明火');
  });

  it('reads typed answers, only for the items answered', () => {
    const built = form();
    const { node } = built;
    node.querySelector<HTMLInputElement>('input[name=open_flame][value=false]')!.checked = true;
    node.querySelector<HTMLInputElement>('input[name=escape_route][value=true]')!.checked = true;
    node.querySelector<HTMLInputElement>('input[name=sleeping_people]')!.value = '2';
    expect(built.read()).toEqual({ open_flame: { value: false }, escape_route: { value: true }, sleeping_people: { value: 2 } });
    node.querySelector<HTMLInputElement>('input[name=sleeping_people]')!.value = '-1';
    expect(built.read().sleeping_people).toBeUndefined();
  });

  it('lists what is missing: unanswered items and required photos', () => {
    const built = form();
    const problems = built.problems();
    expect(problems).toHaveLength(template.items.length);
    for (const item of template.items) {
      const value = item.answer === 'number' ? null : 'true';
      if (value) built.node.querySelector<HTMLInputElement>(`input[name=${item.id}][value=${value}]`)!.checked = true;
      else built.node.querySelector<HTMLInputElement>(`input[name=${item.id}]`)!.value = '0';
    }
    const required = template.items.filter((i) => i.photo_required).map((i) => i.label_zh);
    expect(required.length).toBeGreaterThan(0);
    expect(built.problems()).toEqual(required.map((label) => `须拍照：${label}`));
    expect(form({ withPhotos: false }).problems()).toHaveLength(template.items.length);
  });

  it('prefills answers and photos, and shows the owner\'s answers when verifying', () => {
    const prefill = { open_flame: { value: true, photos: ['S0001:photo:01JDX00000000000000000000A'] }, sleeping_people: { value: 3 } };
    const built = form({ prefill });
    expect(built.node.querySelector<HTMLInputElement>('input[name=open_flame][value=true]')!.checked).toBe(true);
    expect(built.node.querySelector<HTMLInputElement>('input[name=sleeping_people]')!.value).toBe('3');
    expect(built.read().open_flame).toEqual(prefill.open_flame);
    expect(built.photos()).toEqual({ open_flame: prefill.open_flame.photos });
    expect(built.node.querySelector('[data-item=open_flame]')!.classList.contains('hazard')).toBe(true);

    const verifying = form({ prefill, verify: true });
    expect(verifying.node.querySelector('[data-item=open_flame] .prior')!.textContent).toBe('店主自查：是');
    expect(verifying.photos()).toEqual({}); // the owner's photos stay theirs; the patrol takes its own
  });

  it('offers 不适用 where the template allows it: read as "na", no hazard, no photo asked for', () => {
    const built = form();
    const { node } = built;
    const na = (id: string) => node.querySelector<HTMLInputElement>(`input[name=${id}][value=na]`);
    expect(na('open_flame')).toBeNull();
    expect(node.querySelector(`label[for="${na('gas_safe')!.id}"]`)!.textContent).toBe('不适用');
    for (const item of template.items) {
      if (item.id === 'gas_safe') continue;
      if (item.answer === 'number') node.querySelector<HTMLInputElement>(`input[name=${item.id}]`)!.value = '0';
      else node.querySelector<HTMLInputElement>(`input[name=${item.id}][value=true]`)!.checked = true;
    }
    const photoLabel = () => node.querySelector('[data-item=gas_safe] label.photo')!.textContent;
    expect(photoLabel()).toBe('拍照（必须）');
    na('gas_safe')!.checked = true;
    na('gas_safe')!.dispatchEvent(new Event('change'));
    expect(built.read().gas_safe).toEqual({ value: 'na' });
    expect(node.querySelector('[data-item=gas_safe]')!.classList.contains('hazard')).toBe(false);
    expect(photoLabel()).toBe('拍照');
    // Only the extinguisher's photo is missing now: nothing to photograph where there is no gas.
    expect(built.problems()).toEqual(['须拍照：灭火器是否在有效期内']);
    node.querySelector<HTMLInputElement>('input[name=extinguisher_valid][value=true]')!.checked = false;
    na('extinguisher_valid')!.checked = true;
    expect(built.problems()).toEqual([]);
    expect(isHazard(template.items.find((i) => i.id === 'gas_safe')!, 'na')).toBe(false);
  });

  it('restores 不适用 from a draft, and shows the owner said it when verifying', () => {
    const prefill = { gas_safe: { value: 'na' as const } };
    const restored = form({ prefill });
    expect(restored.node.querySelector<HTMLInputElement>('input[name=gas_safe][value=na]')!.checked).toBe(true);
    expect(restored.read().gas_safe).toEqual({ value: 'na' });
    expect(restored.node.querySelector('[data-item=gas_safe] label.photo')!.textContent).toBe('拍照');
    const verifying = form({ prefill, verify: true });
    expect(verifying.node.querySelector('[data-item=gas_safe] .prior')!.textContent).toBe('店主自查：不适用');
    expect(verifying.read().gas_safe).toEqual({ value: 'na' }); // the worker confirms it unless they change it
  });

  it('marks a hazard answer as it is chosen, and calls onChange', () => {
    const onChange = vi.fn();
    const { node } = form({ onChange });
    const yes = node.querySelector<HTMLInputElement>('input[name=open_flame][value=true]')!;
    yes.checked = true;
    yes.dispatchEvent(new Event('change'));
    expect(node.querySelector('[data-item=open_flame]')!.classList.contains('hazard')).toBe(true);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('knows hazards and picks templates by shop category', () => {
    const items = Object.fromEntries(template.items.map((i) => [i.id, i]));
    expect(isHazard(items.open_flame!, true)).toBe(true);
    expect(isHazard(items.escape_route!, true)).toBe(false);
    expect(isHazard(items.sleeping_people!, 1)).toBe(true);
    expect(isHazard(items.sleeping_people!, 0)).toBe(false);
    const food = { ...template, _id: 'district:template:food', categories: ['restaurant'] };
    const frozen = { ...template, _id: 'district:template:fire-gas:v1' };
    expect(pickTemplates([template, food, frozen], 'retail').map((t) => t._id)).toEqual([template._id]);
    expect(pickTemplates([template, food, frozen], 'restaurant').map((t) => t._id)).toEqual([template._id, food._id]);
    expect(pickTemplates([template, food], null).map((t) => t._id)).toEqual([template._id]);
  });
});

describe('drafts', () => {
  afterEach(() => {
    vi.useRealTimers();
    clearDraft('t');
  });

  it('saves a moment after typing, survives a reload (storage), and is cleared on submit', () => {
    vi.useFakeTimers();
    let value = { answers: { open_flame: { value: false } } };
    const save = autosave('t', () => value, { delayMs: 400 });
    save.touch();
    expect(loadDraft('t')).toBeNull();
    vi.advanceTimersByTime(400);
    expect(loadDraft('t')).toEqual(value);
    value = { answers: { open_flame: { value: true } } };
    save.touch();
    save.flush();
    expect(loadDraft('t')).toEqual(value);
    save.clear();
    save.touch();
    vi.advanceTimersByTime(1000);
    expect(loadDraft('t')).toBeNull();
  });
});

describe('drafts after every draft is forgotten (退出登录)', () => {
  it('a form left before saves nothing more: its pending save, a late touch and a flush are dropped', async () => {
    const { clearAllDrafts } = await import('../src/drafts');
    vi.useFakeTimers();
    const save = autosave('gone', () => ({ photo: 'S0005:photo:1' }), { delayMs: 400 });
    save.touch(); // a photo finished on the form just left: its save is pending
    clearAllDrafts(); // the owner signs out
    vi.advanceTimersByTime(1000);
    save.touch();
    save.flush();
    vi.advanceTimersByTime(1000);
    expect(loadDraft('gone')).toBeNull();
    const next = autosave('gone', () => ({ n: 2 }), { delayMs: 400 }); // the next user's form saves as usual
    next.touch();
    vi.advanceTimersByTime(400);
    expect(loadDraft('gone')).toEqual({ n: 2 });
    next.clear();
    vi.useRealTimers();
  });
});

describe('drafts when the screen changes', () => {
  it('saves at once when another screen or language replaces the form', async () => {
    const { LEAVING_EVENT } = await import('../src/router');
    const save = autosave('leave', () => ({ n: 1 }), { delayMs: 10_000 });
    save.touch();
    expect(loadDraft('leave')).toBeNull();
    window.dispatchEvent(new Event(LEAVING_EVENT));
    expect(loadDraft('leave')).toEqual({ n: 1 });
    save.clear();
  });
});
