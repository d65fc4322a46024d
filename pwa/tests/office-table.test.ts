// @vitest-environment happy-dom
// A long table (a sub-district's ranking: 1,500 shops) draws a page of rows, and more on request.
import { describe, expect, it } from 'vitest';
import { table, TABLE_PAGE } from '../src/office/ui';

describe('office tables', () => {
  it('draw the first rows, the rest a page at a time, and sorting starts again from the top', () => {
    const rows = Array.from({ length: TABLE_PAGE * 2 + 50 }, (_, i) => ({ n: i }));
    const el = table([{ label: 'n', cell: (r: { n: number }) => String(r.n), sort: (r: { n: number }) => r.n }], rows);
    const count = (): number => el.querySelectorAll('tbody tr').length;
    const more = el.querySelector<HTMLButtonElement>('[data-action="more-rows"]')!;
    expect(count()).toBe(TABLE_PAGE);
    expect(more.hidden).toBe(false);
    expect(more.textContent).toContain(String(TABLE_PAGE + 50));
    more.click();
    expect(count()).toBe(TABLE_PAGE * 2);
    more.click();
    expect(count()).toBe(rows.length);
    expect(more.hidden).toBe(true);
    el.querySelector<HTMLButtonElement>('th button.sort')!.click(); // ascending
    el.querySelector<HTMLButtonElement>('th button.sort')!.click(); // descending: the last rows first
    expect(count()).toBe(TABLE_PAGE);
    expect(el.querySelector('tbody tr td')?.textContent).toBe(String(rows.length - 1));
  });

  it('shows no button for a short table', () => {
    const el = table([{ label: 'n', cell: (r: { n: number }) => String(r.n) }], [{ n: 1 }, { n: 2 }]);
    expect(el.querySelectorAll('tbody tr')).toHaveLength(2);
    expect(el.querySelector<HTMLButtonElement>('[data-action="more-rows"]')!.hidden).toBe(true);
  });
});
