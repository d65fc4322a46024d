// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { failuresBlock } from '../src/office/syncmon';

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
