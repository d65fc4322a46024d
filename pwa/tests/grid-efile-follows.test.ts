// @vitest-environment happy-dom
// A record's 待上传 and 被拒收 on the e-file change without a write to the local database: the server takes a record
// (the push ledger's count goes down) or refuses it (kept in the phone's storage). The e-file shown, drawn again,
// shows them; so does the card of an alarm a patrol of this phone will raise (报警待上传).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLocalDb, selfCheck, seriousPatrol, shop } from './grid-fixtures';

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
  localStorage.clear(); // the language chosen
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

describe("the e-file's alarm to upload", () => {
  // A patrol of this phone with a serious finding, which the server has not taken yet: its alarm is to come.
  const patrol = seriousPatrol('S0001');

  async function shown(): Promise<HTMLElement> {
    (phone.db as FakeLocalDb).write(patrol);
    phone.unsent = new Set([patrol._id]);
    const { efileView } = await import('../src/grid/efile');
    const view = efileView('S0001');
    document.body.replaceChildren(view.node);
    await vi.waitFor(() => expect(view.node.querySelector('li.g-alarm[data-status="pending"]')).not.toBeNull());
    return view.node;
  }

  const badges = (node: HTMLElement): string[] =>
    [...node.querySelectorAll('li.g-alarm[data-status="pending"] .g-badge, [data-patrol-alarm] .g-badge')].map((b) => b.textContent ?? '');

  it('is called as on the list, on its card and on the patrol that raises it, and says when it goes up', async () => {
    const node = await shown();
    expect(badges(node)).toEqual(['报警待上传', '报警待上传']); // the list's card: 报警待上传 1
    const card = node.querySelector('li.g-alarm[data-status="pending"]')!;
    expect(card.textContent).toContain('巡查上传后即向安监所报警。');
    // The server takes the patrol: its alarm comes next.
    phone.unsent = new Set();
    phone.redraw?.();
    await vi.waitFor(() => expect(node.querySelector('li.g-alarm[data-status="pending"]')?.textContent).toContain('巡查已上传，报警即将送达安监所。'));
  });

  it('in English too, in words short enough to leave the card its title on a 360 px phone', async () => {
    const { setLang } = await import('../src/i18n');
    setLang('en');
    const node = await shown();
    expect(badges(node)).toEqual(['Alarm to upload', 'Alarm to upload']);
    const { gt } = await import('../src/grid/i18n');
    expect(gt('due.alarmPending', { n: 1 })).toBe('1 alarm to upload'); // the list's card
  });
});
