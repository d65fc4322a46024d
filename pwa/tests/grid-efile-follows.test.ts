// @vitest-environment happy-dom
// A record's 待上传 and 被拒收 on the e-file change without a write to the local database: the server takes a record
// (the push ledger's count goes down) or refuses it (kept in the phone's storage). The e-file shown, drawn again,
// shows them.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, selfCheck, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({
  db: null as unknown,
  unsent: new Set<string>(),
  refused: new Set<string>(),
  redraw: null as null | (() => void),
}));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  // The screen's redraw, which db.ts calls on a change of the database or of the header's pending and refused counts
  // (local-changes.test.ts): here the test calls it where the real one would.
  whileShown: (_node: HTMLElement, onChange: () => void) => {
    phone.redraw = onChange;
  },
  uploadState: async () => ({ unsent: new Set(phone.unsent), refused: new Set(phone.refused) }),
}));
vi.mock('../src/photo-cache', () => ({ thumbUrl: async (id: string) => `blob:${id}` }));

const check = selfCheck(1);

beforeEach(() => {
  vi.resetModules();
  const db = new FakeLocalDb();
  db.write(shop('S0001'));
  db.write(check);
  phone.db = db;
  phone.unsent = new Set([check._id]);
  phone.refused = new Set();
});

describe('the e-file shown', () => {
  it('follows the server taking a record, and refusing one, with no change to the local database', async () => {
    const { updateSyncFacts } = await import('../src/sync-status');
    updateSyncFacts({ online: true, pendingDocs: 1, refused: 0 });
    const { efileView } = await import('../src/grid/efile');
    const view = efileView('S0001');
    document.body.replaceChildren(view.node);
    await vi.waitFor(() => expect(view.node.querySelector('[data-unsent]')).not.toBeNull());

    // The server refuses it: the phone's storage says so, and the header's count changes.
    phone.unsent = new Set();
    phone.refused = new Set([check._id]);
    updateSyncFacts({ pendingDocs: 0, refused: 1 });
    phone.redraw?.(); // the counts changed
    await vi.waitFor(() => expect(view.node.querySelector('[data-refused]')).not.toBeNull());
    expect(view.node.querySelector('[data-unsent]')).toBeNull();
  });
});
