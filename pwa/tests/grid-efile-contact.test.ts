// @vitest-environment happy-dom
// The shop's 负责人 and phone on the grid worker's e-file, as the office registered them: the phone a link that
// dials it (the shop is shut, the owner is out), nothing for a shop without one.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({ db: null as unknown }));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  whileShown: () => undefined,
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
}));
vi.mock('../src/photo-cache', () => ({ thumbUrl: async (id: string) => `blob:${id}` }));

beforeEach(() => {
  vi.resetModules();
  localStorage.clear();
  const db = new FakeLocalDb();
  db.write(shop('S0001', { contact: { name: '王建国', phone: '138 0013 8000' } }));
  db.write(shop('S0002'));
  db.write(shop('S0003', { contact: { name: null, phone: '0571-88001234' } }));
  phone.db = db;
});

async function shown(code: string): Promise<HTMLElement> {
  const { efileView } = await import('../src/grid/efile');
  const view = efileView(code);
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelector('[data-shop-name]')).not.toBeNull());
  return view.node;
}

describe('the e-file of a shop', () => {
  it('names its responsible person and dials the phone with a tap', async () => {
    const line = (await shown('S0001')).querySelector<HTMLElement>('[data-contact]')!;
    expect(line.textContent).toBe('负责人： 王建国 · 138 0013 8000');
    expect(line.querySelector('a')!.getAttribute('href')).toBe('tel:13800138000');
  });

  it('says nothing of a contact the office has not registered, and gives a phone alone', async () => {
    expect((await shown('S0002')).querySelector('[data-contact]')).toBeNull();
    const alone = (await shown('S0003')).querySelector<HTMLElement>('[data-contact]')!;
    expect(alone.textContent).toBe('负责人： 0571-88001234');
    expect(alone.querySelector('a')!.getAttribute('href')).toBe('tel:057188001234');
  });
});

describe('the list badge of a shop', () => {
  it('says the list is this month\'s so far, as the owner\'s home does: the office has not published it', async () => {
    (phone.db as FakeLocalDb).write({ _id: 'S0001:score', type: 'score', shop: 'S0001', points: 89, rank: 4, of: 5, list: 'black' });
    const node = await shown('S0001');
    await vi.waitFor(() => expect(node.querySelector('[data-rank]')?.textContent).toBe('4'));
    // It read 黑榜, as if published, while the owner read 本月暂列 and the shop's public card showed no list.
    expect(node.querySelector('.g-badges')?.textContent).toContain('本月暂列黑榜');
  });
});
