// @vitest-environment happy-dom
// A patrol draft's own photo, shown again as the form opens: kept on the phone while the form is a draft
// (../src/draft-photos), it is no longer there once the form was sent and its write failed (the phone full: the form
// stays a draft, its photos gone to the photos database, uploaded, and that database let go after a month,
// ../src/photo-retention). Then it comes from the server, as any thumbnail: one that does not load says
// 加载失败，点按重试 and loads on a tap (../src/thumb-image), not an empty frame for good.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RulesVersion, TemplateDoc } from '../src/grid/docs';
import rulesJson from '../../server/models/data/rules.json';
import templateJson from '../../server/models/data/template-fire-gas.json';
import { FakeLocalDb, selfCheckInOrder, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({ db: null as unknown, answers: [] as number[] }));

// The local database only: the draft photo is in none of the phone's photo databases any more.
vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  refusedIds: () => new Set<string>(),
  shopsWaiting: () => new Set<string>(),
  whileShown: () => undefined,
  followChanges: () => () => undefined,
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
}));
vi.mock('../src/session', () => ({
  currentSession: () => ({ token: 't', user: { id: 'grid:zhou01', role: 'grid' } }),
  apiFetch: async () => new Response(JSON.stringify({ rows: [] })),
  signOut: async () => undefined,
}));

const RULES = rulesJson as RulesVersion;
const FIRE = templateJson as unknown as TemplateDoc;
const PHOTO = 'S0001:photo:01M7YN07V8XQJ7JEF02Y1DNP01';

beforeEach(() => {
  vi.resetModules();
  localStorage.clear();
  const db = new FakeLocalDb();
  db.write(shop('S0001'), FIRE, RULES, selfCheckInOrder(FIRE, true));
  phone.db = db;
  // The server's answers to the photo, one per request: an error first (a proxy's 502), then the picture.
  phone.answers = [502, 200];
  vi.stubGlobal('fetch', async () => {
    const status = phone.answers.shift() ?? 200;
    return status === 200
      ? new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } })
      : new Response('bad gateway', { status, headers: { 'content-type': 'text/plain' } });
  });
  return () => vi.unstubAllGlobals();
});

describe("a patrol draft's photo no longer on the phone", () => {
  it('says 加载失败，点按重试 when the server does not give it, and shows it on a tap', async () => {
    const { saveDraft } = await import('../src/drafts');
    saveDraft('grid.patrol.S0001', {
      items: { wiring_ok: { value: false, ownPhotos: [PHOTO], note: '' } },
      verified: [],
      others: [],
    });
    const { patrolView } = await import('../src/grid/patrol');
    const view = patrolView('S0001');
    document.body.replaceChildren(view.node);
    const item = (): HTMLElement => view.node.querySelector<HTMLElement>('fieldset[data-item="wiring_ok"]')!;
    await vi.waitFor(() => expect(item().querySelector(`[data-photo-failed="${PHOTO}"]`)?.textContent).toBe('加载失败，点按重试'));
    // Still the form's photo: the worker may take it out.
    expect(item().querySelector(`[data-remove-photo="${PHOTO}"]`)).not.toBeNull();
    item().querySelector<HTMLButtonElement>(`[data-photo-failed="${PHOTO}"]`)!.click();
    await vi.waitFor(() => expect(item().querySelector<HTMLImageElement>(`img[data-photo="${PHOTO}"]`)?.getAttribute('src')).toMatch(/^blob:/));
    expect(item().querySelector('[data-photo-failed]')).toBeNull();
    // The grid's own thumbnail, as every other photo of the worker's screens (64 px), not the owner's.
    expect(item().querySelector(`img[data-photo="${PHOTO}"]`)?.getAttribute('width')).toBe('64');
  });
});
