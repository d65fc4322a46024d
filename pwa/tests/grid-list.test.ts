// @vitest-environment happy-dom
// The grid worker's list marks the shops holding records the server has not acknowledged (有记录待上传), following the
// push ledgers as they count again: by the shops, since one patrol acknowledged while another is written leaves the
// number waiting as it was.
import { describe, expect, it, vi } from 'vitest';
import { groupByShop } from '../src/grid/due';

const state = vi.hoisted(() => ({
  db: { get: async () => Promise.reject(new Error('missing')), put: async () => ({}), info: async () => ({ update_seq: 0 }) },
  waiting: new Set<string>(),
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
    loadShopFiles: async () => groupByShop([shop('S0001'), shop('S0002')]),
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
});
