// @vitest-environment happy-dom
// The alarm desk pages a long list (a sub-district's year: 1,206 resolved alarms) instead of stopping at the first.
import { describe, expect, it, vi } from 'vitest';

const asked: string[] = [];
const page = (ids: string[], next: string | null) => ({
  items: ids.map((id, i) => ({
    _id: id,
    shop: id.split(':')[0],
    status: 'resolved',
    shop_name: '老王面馆',
    address: '明南路1号',
    grid_worker: 'grid:zhou',
    items: [{ item: 'gas_safe', severity: 'serious', hazard: `${id}-h`, photos: [] }],
    cost: 10,
    department: 'gas',
    created_at: `2026-11-${20 - i}T10:00:00+08:00`,
    history: [{ status: 'resolved', at: '2026-11-29T10:00:00+08:00', by: 'office:li' }],
  })),
  next,
  counts: { resolved: 3 },
});
vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    asked.push(path);
    return path.includes('before=') ? page(['S0003:alarm:c'], null) : page(['S0001:alarm:a', 'S0002:alarm:b'], 'S0002:alarm:b');
  },
}));
vi.mock('../src/office/people', () => ({
  staffNames: async () => new Map(),
  gridCrews: async () => new Map(),
  personName: (_: unknown, id: string) => id,
}));
vi.mock('../src/office/watch', () => ({ listen: () => undefined }));

describe('the alarm desk', () => {
  it('pages the resolved alarms with 加载更多 instead of stopping at the first page', async () => {
    const { alarms } = await import('../src/office/alarms');
    const root = alarms(new URLSearchParams('status=resolved'), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('article.alarm-card')).toHaveLength(2));
    const more = root.querySelector<HTMLButtonElement>('[data-action="more"]')!;
    expect(more.hidden).toBe(false);
    more.click();
    await vi.waitFor(() => expect(root.querySelectorAll('article.alarm-card')).toHaveLength(3));
    expect(root.querySelector('.alarm-list')!.lastElementChild).toBe(more); // the cards stay above the button
    expect(asked.at(-1)).toContain('before=S0002');
    expect(more.hidden).toBe(true);
  });
});
