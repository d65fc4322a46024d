// @vitest-environment happy-dom
// What the grid worker's screens say of a patrol or a verification just saved: the worker read 「巡查已保存在本机，
// 联网后自动上传」 online all along, and still after the header said 已同步. As on the owner's home (owner-saved.test.ts),
// the words follow the upload as the header knows it (../src/sync-status); a patrol whose form promised an alarm says,
// once up, that the alarm is on its way, as the shop's e-file says then, and that the office was alarmed once the
// server's alarm has come down to the phone.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HazardDoc, RulesVersion, TemplateDoc } from '../src/grid/docs';
import rulesJson from '../../server/models/data/rules.json';
import templateJson from '../../server/models/data/template-fire-gas.json';
import { FakeLocalDb, selfCheckInOrder, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({
  db: null as unknown,
  unsent: new Set<string>(),
  refused: new Set<string>(),
  redraw: null as null | (() => void),
  followers: new Set<(change: { id: string }) => void>(),
}));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  refusedIds: () => new Set(phone.refused),
  shopsWaiting: () => new Set<string>(),
  // The screen's redraw, which db.ts calls on a change of the database or of the header's counts.
  whileShown: (_node: HTMLElement, onChange: () => void) => void (phone.redraw = onChange),
  // The local database's live changes (one per document the replication writes).
  followChanges: (follower: (change: { id: string }) => void) => {
    phone.followers.add(follower);
    return () => phone.followers.delete(follower);
  },
  uploadState: async (ids: string[]) => ({
    unsent: new Set(ids.filter((id) => phone.unsent.has(id))),
    refused: new Set(phone.refused),
  }),
}));
// Events written as ../src/events writes them: on the phone, waiting for the server, counted by the header.
vi.mock('../src/events', async (actual) => {
  const write = async (docs: Record<string, unknown>[]): Promise<string[]> => {
    const { updateSyncFacts } = await import('../src/sync-status'); // the test's (its modules are fresh)
    const ids = docs.map((doc, n) => (doc._id as string | undefined) ?? `${doc.shop}:${doc.type}:01M7YN07V8XQJ7JEF02Y1DNW0${n}`);
    (phone.db as FakeLocalDb).write(...docs.map((doc, n) => ({ performed_at: new Date().toISOString(), ...doc, _id: ids[n], created_by: 'grid:zhou01', device: 'd-1' })));
    for (const id of ids) phone.unsent.add(id);
    updateSyncFacts({ pendingDocs: phone.unsent.size });
    return ids;
  };
  return {
    ...(await actual<typeof import('../src/events')>()),
    appendEvents: vi.fn(write),
    appendEvent: vi.fn(async (doc: Record<string, unknown>) => (await write([doc]))[0]),
  };
});
vi.mock('../src/session', () => ({
  currentSession: () => ({ token: 't', user: { id: 'grid:zhou01', role: 'grid' } }),
  apiFetch: async () => new Response(JSON.stringify({ rows: [] })),
  signOut: async () => undefined,
}));
vi.mock('../src/photo-cache', () => ({ keepPhotos: async () => undefined, thumbUrl: async (id: string) => `blob:${id}` }));

// The screens' modules, fresh for each test (the list's caches): these are theirs.
let setLang: typeof import('../src/i18n').setLang;
let updateSyncFacts: typeof import('../src/sync-status').updateSyncFacts;

const RULES = rulesJson as RulesVersion;
const FIRE = templateJson as unknown as TemplateDoc;
// The owner's latest self-check, every item in order (with the photos the checklist asks for): the patrol prefilled.
const inOrder = selfCheckInOrder(FIRE, true);
// A hazard the owner reports fixed, for the worker to verify.
const HAZARD: HazardDoc = {
  _id: 'S0001:hazard:01M7YN07V8XQJ7JEF02Y1DNS01-wiring_ok',
  type: 'hazard',
  shop: 'S0001',
  status: 'rectified',
  source: 'S0001:patrol:01M7YN07V8XQJ7JEF02Y1DNS01',
  item: 'wiring_ok',
  severity: 'general',
  self_reported: false,
  found_at: '2026-11-01T10:00:00+08:00',
  deadline: '2099-11-08',
  cost: 2,
};

beforeEach(async () => {
  vi.resetModules();
  ({ setLang } = await import('../src/i18n'));
  ({ updateSyncFacts } = await import('../src/sync-status'));
  localStorage.clear();
  document.body.replaceChildren();
  history.replaceState(null, '', '/');
  const db = new FakeLocalDb();
  db.write(shop('S0001'), FIRE, RULES, inOrder, HAZARD);
  phone.db = db;
  phone.unsent = new Set();
  phone.refused = new Set();
  phone.redraw = null;
  phone.followers = new Set();
});

afterEach(() => {
  setLang('zh-CN');
  updateSyncFacts({ online: true, pendingDocs: 0, pendingPhotos: 0, refused: 0 });
});

function answer(node: HTMLElement, item: string, value: 'true' | 'false'): void {
  const radio = node.querySelector<HTMLInputElement>(`input[name="${item}"][value="${value}"]`)!;
  radio.checked = true;
  radio.dispatchEvent(new Event('change', { bubbles: true }));
}

/** Patrol the shop (`found`: the items found wrong), and come back to the shop list as the form does. */
async function patrol(...found: string[]): Promise<HTMLElement> {
  const { patrolView } = await import('../src/grid/patrol');
  const view = patrolView('S0001');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelector('form.g-patrol [data-summary]')).not.toBeNull());
  for (const item of found) answer(view.node, item, 'true');
  const form = view.node.querySelector<HTMLFormElement>('form.g-patrol')!;
  form.dispatchEvent(new Event('submit', { cancelable: true }));
  await vi.waitFor(() => expect(location.pathname).toBe('/grid'));
  const { listView } = await import('../src/grid/list');
  const list = listView('');
  document.body.replaceChildren(list.node);
  return list.node;
}

/** Pass the owner's fix, and come back to the shop's e-file as the form does. */
async function verify(): Promise<HTMLElement> {
  const { verifyView } = await import('../src/grid/verify');
  const view = verifyView('S0001', '01M7YN07V8XQJ7JEF02Y1DNS01-wiring_ok');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelector('form.g-verify-form')).not.toBeNull());
  const form = view.node.querySelector<HTMLFormElement>('form.g-verify-form')!;
  form.querySelector<HTMLInputElement>('input[name=passed][value=true]')!.checked = true;
  form.dispatchEvent(new Event('submit', { cancelable: true }));
  await vi.waitFor(() => expect(location.pathname).toBe('/grid/s/S0001'));
  const { efileView } = await import('../src/grid/efile');
  const efile = efileView('S0001');
  document.body.replaceChildren(efile.node);
  await vi.waitFor(() => expect(efile.node.querySelector('[data-shop-name]')).not.toBeNull());
  return efile.node;
}

const said = (node: HTMLElement): string | null => node.querySelector('[data-flash]')?.textContent ?? null;

/** The server acknowledged what waited: the header says 已同步. Returns the ids it acknowledged. */
function uploaded(): string[] {
  const ids = [...phone.unsent];
  phone.unsent.clear();
  updateSyncFacts({ pendingDocs: 0 });
  return ids;
}

/** The server's alarm for the patrols `ids` comes down by replication (named after one of them, as the server names
 *  it), with nothing else. */
function alarmComesDown(ids: string[]): void {
  const patrol = ids.find((id) => id.includes(':patrol:'))!;
  const alarm = {
    _id: patrol.replace(':patrol:', ':alarm:'),
    type: 'alarm',
    shop: 'S0001',
    status: 'open',
    source: patrol,
    items: [{ item: 'open_flame', severity: 'serious', hazard: `${patrol.replace(':patrol:', ':hazard:')}-open_flame` }],
    cost: 10,
    created_at: new Date().toISOString(),
  };
  (phone.db as FakeLocalDb).write(alarm);
  for (const follower of [...phone.followers]) follower({ id: alarm._id });
}

/** The server's hazard of the patrol's open flame; `alarm`: the alarm it names, null for none, undefined for a hazard
 *  of a server that did not say. */
function serverHazard(patrolId: string, alarm: string | null | undefined): HazardDoc {
  const hazard: HazardDoc = {
    ...HAZARD,
    _id: `${patrolId.replace(':patrol:', ':hazard:')}-open_flame`,
    source: patrolId,
    item: 'open_flame',
    status: 'open',
    severity: 'serious',
    found_at: new Date().toISOString(),
  };
  return alarm === undefined ? hazard : { ...hazard, alarm };
}

/** A hazard of the server's projection comes down by replication. */
function hazardComesDown(hazard: HazardDoc): void {
  (phone.db as FakeLocalDb).write(hazard);
  for (const follower of [...phone.followers]) follower({ id: hazard._id });
}

describe('the shop list after a patrol is saved', () => {
  it('online: says it is uploading, then that it was uploaded once the header says 已同步', async () => {
    const list = await patrol();
    await vi.waitFor(() => expect(said(list)).toBe('巡查已保存，正在上传。'));
    uploaded();
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传。'));
    expect(list.textContent).not.toContain('联网后自动上传');
  });

  it('a patrol whose form promised the alarm says, once up, that the alarm is on its way, as the e-file does; then alarmed', async () => {
    const list = await patrol('open_flame');
    await vi.waitFor(() => expect(said(list)).toBe('巡查已保存，正在上传。'));
    const ids = uploaded();
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传，报警即将送达安监所。'));
    expect(list.querySelector<HTMLElement>('[data-flash]')!.dataset.saved).toBe('uploaded');
    // The shop's e-file says the same of the alarm meanwhile.
    const { efileView } = await import('../src/grid/efile');
    const efile = efileView('S0001').node;
    await vi.waitFor(() => expect(efile.querySelector('[data-alarm-pending]')?.textContent).toContain('巡查已上传，报警即将送达安监所。'));
    // Other documents coming down change nothing; the server's alarm does.
    for (const follower of [...phone.followers]) follower({ id: 'S0001:score' });
    await new Promise((r) => setTimeout(r, 50));
    expect(said(list)).toBe('巡查已上传，报警即将送达安监所。');
    alarmComesDown(ids);
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传，已向安监所报警。'));
    expect(list.querySelector<HTMLElement>('[data-flash]')!.dataset.saved).toBe('answered');
    // And the e-file shows the server's alarm in place of the one to come.
    phone.redraw?.();
    await vi.waitFor(() => expect(efile.querySelector('li.g-alarm[data-status="open"]')).not.toBeNull());
    expect(efile.querySelector('[data-alarm-pending]')).toBeNull();
    // It stays said as the header changes again.
    updateSyncFacts({ pendingDocs: 1 });
    updateSyncFacts({ pendingDocs: 0 });
    await new Promise((r) => setTimeout(r, 50));
    expect(said(list)).toBe('巡查已上传，已向安监所报警。');
  });

  it('keeps the alarm on its way when the server\'s hazards come down before it and name it, as the e-file does', async () => {
    // A CouchDB cluster sends the documents of one write in no promised order: the patrol's hazard, then its alarm.
    const list = await patrol('open_flame');
    const notice = list.querySelector<HTMLElement>('[data-flash]')!;
    const heard: string[] = [];
    new MutationObserver(() => heard.push(notice.textContent ?? '')).observe(notice, { childList: true, characterData: true, subtree: true });
    const ids = uploaded();
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传，报警即将送达安监所。'));
    const patrolId = ids.find((id) => id.includes(':patrol:'))!;
    hazardComesDown(serverHazard(patrolId, patrolId.replace(':patrol:', ':alarm:')));
    // The shop's e-file still says the alarm is on its way (not a file without it), and so does the notice.
    const { efileView } = await import('../src/grid/efile');
    const efile = efileView('S0001').node;
    await vi.waitFor(() => expect(efile.querySelector('[data-alarm-pending]')?.textContent).toContain('巡查已上传，报警即将送达安监所。'));
    expect(efile.querySelector(`[data-hazard="${patrolId.replace(':patrol:', ':hazard:')}-open_flame"]`)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    expect(said(list)).toBe('巡查已上传，报警即将送达安监所。');
    expect(notice.dataset.saved).toBe('uploaded');
    alarmComesDown(ids);
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传，已向安监所报警。'));
    phone.redraw?.();
    await vi.waitFor(() => expect(efile.querySelector('li.g-alarm[data-status="open"]')).not.toBeNull());
    expect(efile.querySelector('[data-alarm-pending]')).toBeNull();
    // Never, meanwhile, that no alarm was raised.
    expect(heard.filter((text) => text.includes('未触发报警'))).toEqual([]);
  });

  it.each([
    ['saying it raised none', null],
    ['from a server that did not say yet (an older release): as before', undefined],
  ])('says no alarm was raised once the server sent back the patrol\'s hazards without one (its rules changed), %s', async (_, alarm) => {
    const list = await patrol('open_flame');
    const ids = uploaded();
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传，报警即将送达安监所。'));
    // The server projected the patrol by rules the phone did not have yet: its hazard, and no alarm.
    const patrolId = ids.find((id) => id.includes(':patrol:'))!;
    hazardComesDown(serverHazard(patrolId, alarm));
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传，隐患已录入；未触发报警。'));
    expect(list.querySelector<HTMLElement>('[data-flash]')!.dataset.saved).toBe('unanswered');
    const { efileView } = await import('../src/grid/efile');
    const efile = efileView('S0001').node;
    await vi.waitFor(() => expect(efile.querySelector('[data-shop-name]')).not.toBeNull());
    expect(efile.textContent).not.toContain('报警即将送达');
    // The signal lost, or another patrol waiting, does not take the patrol back from the server.
    updateSyncFacts({ pendingDocs: 1 });
    updateSyncFacts({ online: false });
    await new Promise((r) => setTimeout(r, 50));
    expect(said(list)).toBe('巡查已上传，隐患已录入；未触发报警。');
    updateSyncFacts({ online: true });
    // Should the server's alarm come after all (another document still waiting), the notice says it.
    alarmComesDown(ids);
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传，已向安监所报警。'));
  });

  it('and when the server took the finding as a hazard it still had open (the phone thought it closed): in English too', async () => {
    // The owner's open flame, fixed; this worker passed the fix on an earlier visit: the phone takes the hazard as
    // closed, and today's open flame as a new, serious hazard. The server kept a colleague's failed verdict instead.
    const flame: HazardDoc = { ...HAZARD, _id: 'S0001:hazard:01M7YN07V8XQJ7JEF02Y1DNS02-open_flame', item: 'open_flame', severity: 'serious' };
    (phone.db as FakeLocalDb).write(flame, {
      _id: 'S0001:verification:01M7YN07V8XQJ7JEF02Y1DNS03',
      type: 'verification',
      shop: 'S0001',
      hazard: flame._id,
      passed: true,
      performed_at: '2026-11-02T11:00:00+08:00',
      created_by: 'grid:zhou01',
      device: 'd-1',
    });
    setLang('en');
    const list = await patrol('open_flame');
    const ids = uploaded();
    await vi.waitFor(() => expect(said(list)).toBe('Patrol uploaded; the alarm reaches the safety office in a moment.'));
    const { efileView } = await import('../src/grid/efile');
    const efile = efileView('S0001').node;
    await vi.waitFor(() => expect(efile.querySelector('[data-alarm-pending]')).not.toBeNull());
    // The server's hazard comes down, still open, today's finding merged into it: no new hazard, no alarm.
    const patrolId = ids.find((id) => id.includes(':patrol:'))!;
    hazardComesDown({ ...flame, status: 'open', aliases: [`${patrolId.replace(':patrol:', ':hazard:')}-open_flame`] });
    await vi.waitFor(() => expect(said(list)).toBe('Patrol uploaded and its hazards recorded; no alarm was raised.'));
    phone.redraw?.();
    await vi.waitFor(() => expect(efile.querySelector('[data-alarm-pending]')).toBeNull());
    expect(efile.textContent).not.toContain('the alarm reaches the safety office');
  });

  it('says the office was alarmed once all is up, when the alarm came down while the photos were still going up', async () => {
    const list = await patrol('open_flame');
    await vi.waitFor(() => expect(said(list)).toBe('巡查已保存，正在上传。'));
    // The text went up first (an alarm never waits behind a photo) and the server answered it; a photo still goes up.
    const ids = [...phone.unsent];
    phone.unsent.clear();
    updateSyncFacts({ pendingDocs: 0, pendingPhotos: 1 });
    alarmComesDown(ids);
    await new Promise((r) => setTimeout(r, 50));
    expect(said(list)).toBe('巡查已保存，正在上传。');
    updateSyncFacts({ pendingPhotos: 0 });
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传，已向安监所报警。'));
  });

  it('offline: says it uploads when online, then follows the upload once the signal is back', async () => {
    updateSyncFacts({ online: false });
    const list = await patrol();
    await vi.waitFor(() => expect(said(list)).toBe('巡查已保存在本机，联网后自动上传。'));
    updateSyncFacts({ online: true });
    await vi.waitFor(() => expect(said(list)).toBe('巡查已保存，正在上传。'));
    uploaded();
    await vi.waitFor(() => expect(said(list)).toBe('巡查已上传。'));
  });

  it('is gone when the server refused the patrol (the sync panel says why)', async () => {
    const list = await patrol();
    await vi.waitFor(() => expect(said(list)).toBe('巡查已保存，正在上传。'));
    phone.refused = new Set(phone.unsent);
    phone.unsent.clear();
    updateSyncFacts({ pendingDocs: 0, refused: 1 });
    await vi.waitFor(() => expect(said(list)).toBeNull());
  });

  it('in English too', async () => {
    setLang('en');
    const list = await patrol('open_flame');
    await vi.waitFor(() => expect(said(list)).toBe('Patrol saved; uploading.'));
    const ids = uploaded();
    await vi.waitFor(() => expect(said(list)).toBe('Patrol uploaded; the alarm reaches the safety office in a moment.'));
    alarmComesDown(ids);
    await vi.waitFor(() => expect(said(list)).toBe('Patrol uploaded; the safety office has been alerted.'));
  });
});

describe("the shop's e-file after a verification is saved", () => {
  it('says so there, uploading, then uploaded once the header says 已同步, through its redraws', async () => {
    const efile = await verify();
    await vi.waitFor(() => expect(said(efile)).toBe('复核已保存，正在上传。'));
    uploaded();
    phone.redraw?.(); // the counts changed: the file is drawn again
    await vi.waitFor(() => expect(said(efile)).toBe('复核已上传。'));
  });

  it('offline: says it uploads when online', async () => {
    updateSyncFacts({ online: false });
    const efile = await verify();
    await vi.waitFor(() => expect(said(efile)).toBe('复核已保存，联网后自动上传。'));
  });

  it('is gone when the server refused it, and stays gone as the file is drawn again', async () => {
    const efile = await verify();
    await vi.waitFor(() => expect(said(efile)).toBe('复核已保存，正在上传。'));
    phone.refused = new Set(phone.unsent);
    phone.unsent.clear();
    updateSyncFacts({ pendingDocs: 0, refused: 1 });
    await vi.waitFor(() => expect(said(efile)).toBeNull());
    phone.redraw?.();
    await vi.waitFor(() => expect(efile.querySelector('[data-refused]')).not.toBeNull());
    expect(said(efile)).toBeNull();
  });
});
