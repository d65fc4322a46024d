// @vitest-environment happy-dom
// The e-file's answers of a check, question by question: an item the shop answered 不适用 says so, and is no hazard.
import { describe, expect, it } from 'vitest';
import fireGas from '../../server/models/data/template-fire-gas.json';
import type { TemplateItem } from '../src/items';
import { answersOf } from '../src/office/shops';

const items = new Map((fireGas.items as unknown as TemplateItem[]).map((i) => [i.id, i]));

describe('the answers of a check on the e-file', () => {
  it('shows 不适用 for an item that does not concern the shop, not as a problem', () => {
    const doc = {
      type: 'self_check',
      answers: { extinguisher_present: { value: false }, extinguisher_valid: { value: 'na' }, gas_safe: { value: 'na' }, wiring_ok: { value: true } },
    };
    const node = answersOf(doc, items)!;
    const answer = (id: string): string => node.querySelector(`[data-item=${id}] .answer`)!.textContent ?? '';
    expect(answer('gas_safe')).toBe('不适用');
    expect(answer('extinguisher_valid')).toBe('不适用');
    expect(answer('wiring_ok')).toBe('是');
    expect([...node.querySelectorAll('[data-hazard-answer]')].map((li) => li.getAttribute('data-item'))).toEqual(['extinguisher_present']);
    expect(node.querySelector('summary')!.textContent).toBe('查看每项回答（1 项有问题）');
  });
});
