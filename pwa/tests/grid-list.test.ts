// @vitest-environment happy-dom
// The grid worker's list marks the shops holding records the server has not acknowledged (有记录待上传), following the
// push ledgers as they count again: by the shops, since one patrol acknowledged while another is written leaves the
// number waiting as it was. A patrol among them that will raise an alarm marks its shop 报警待上传, with the alarms.
import { describe, expect, it, vi } from 'vitest';
import type { Doc } from '../src/grid/docs';
import { groupByShop } from '../src/grid/due';
import { seriousPatrol, shop } from './grid-fixtures';

const state = vi.hoisted(() => ({
  db: { get: async () => Promise.reject(new Error('missing')), put: async () => ({}), info: async () => ({ update_seq: 0 }) },
  waiting: new Set<string>(),
  docs: null as Doc[] | null, // the phone's documents; by default two shops and nothing else
  listeners: [] as ((status: { pendingDocs: number; pendingPhotos: number }) => void)[],
}));

vi.mock('../src/db', () => ({
  // Nothing saved on this phone: the list reads the shop files.
  localDb: () => state.db,
  refusedIds: () => new Set<string>(),
  shopsWaiting: () => new Set(state.waiting),
  whileShown: () => undefined,
}));
vi.mock('../src/sync-status', () => ({
  getSyncStatus: () => ({ pulling: false }),
  onSyncStatus: (listener: (status: { pendingDocs: number; pendingPhotos: number }) => void) => {
    state.listeners.push(listener);
    return () => undefined;
  },
}));

vi.mock('../src/grid/data', async () => {
  const { shop } = await import('./grid-fixtures');
  return {
    loadShopFiles: async () => groupByShop(state.docs ?? [shop('S0001'), shop('S0002')]),
    loadDistrict: async () => ({ key: '', rules: [], templates: [] }),
    shopFilesAt: () => 2,
    shopsChangedSince: async () => ({ shops: new Set<string>(), seq: 2 }),
    loadShopFile: async () => null,
    askShops: async () => [],
  };
});

describe("the grid list's 有记录待上传 marks", () => {
  it('move to the shop now waiting when the count stays the same', async () => {
    const { listView } = await import('../src/grid/list');
    state.waiting = new Set(['S0001']);
    const view = listView('');
    document.body.append(view.node);
    const marked = (): string[] =>
      [...view.node.querySelectorAll<HTMLElement>('a.g-shop')].filter((a) => a.querySelector('[data-waiting]')).map((a) => a.dataset.shop ?? '');
    await vi.waitFor(() => expect(marked()).toEqual(['S0001']));
    for (const listener of state.listeners) listener({ pendingDocs: 1, pendingPhotos: 0 }); // the count as it was
    // S0001's patrol was acknowledged while one of S0002 was written: still one record waiting, at another shop.
    state.waiting = new Set(['S0002']);
    for (const listener of state.listeners) listener({ pendingDocs: 1, pendingPhotos: 0 });
    expect(marked()).toEqual(['S0002']);
  });

  it('marks a shop whose patrol saved here will raise an alarm 报警待上传, first, with a red edge', async () => {
    const { listView } = await import('../src/grid/list');
    const serious = seriousPatrol('S0002');
    state.waiting = new Set(['S0002']);
    state.docs = [shop('S0001', { name: '甲店' }), shop('S0002', { name: '乙店' }), serious];
    const view = listView('');
    document.body.replaceChildren(view.node);
    const pending = (): HTMLElement | null => view.node.querySelector('a.g-shop[data-shop="S0002"] [data-due="alarm-pending"]');
    await vi.waitFor(() => expect(pending()).not.toBeNull());
    expect(pending()?.textContent).toBe('报警待上传 1');
    const cards = [...view.node.querySelectorAll<HTMLElement>('a.g-shop')];
    expect(cards.map((a) => a.dataset.shop)).toEqual(['S0002', 'S0001']);
    expect(cards[0]?.classList.contains('urgent')).toBe(true);
    expect(view.node.querySelector('a.g-shop[data-shop="S0001"] [data-due^="alarm"]')).toBeNull();
  });
});
