// @vitest-environment happy-dom
// What the owner's home says of a form just saved: the audit's owner read 「自查已保存，联网后自动上传」 online all
// along, and still after the header said 已同步. The words follow the upload as the header knows it (../src/sync-status).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { fake, resetOwnerFakes } from './owner-fakes';

vi.mock('../src/db', async () => (await import('./owner-fakes')).ownerDb);
vi.mock('../src/session', async (actual) => ({
  ...(await actual<typeof import('../src/session')>()),
  ...(await import('./owner-fakes')).ownerSession,
}));
// A rectification written as ../src/events writes it: on the phone, waiting for the server, counted by the header.
vi.mock('../src/events', async (actual) => {
  const { fake: phone } = await import('./owner-fakes');
  const { updateSyncFacts } = await import('../src/sync-status');
  return {
    ...(await actual<typeof import('../src/events')>()),
    photoUrl: async () => null,
    appendEvent: vi.fn(async (doc: Record<string, unknown>) => {
      const id = `S0001:rectification:01JE7000000000000000000000`;
      phone.docs.set(id, { ...doc, _id: id });
      phone.unsent.add(id);
      updateSyncFacts({ pendingDocs: phone.unsent.size });
      return id;
    }),
  };
});
vi.mock('../src/photo-cache', async (actual) => ({
  ...(await actual<typeof import('../src/photo-cache')>()),
  keepPhotos: vi.fn(async () => undefined),
}));

import { setLang } from '../src/i18n';
import { mountOwnerHome, rectifyView } from '../src/owner';
import { updateSyncFacts } from '../src/sync-status';

const HAZARD = 'S0001:hazard:01JE0000000000000000000000-f1';

beforeEach(() => {
  resetOwnerFakes();
  history.replaceState(null, '', '/');
  fake.docs.set(HAZARD, {
    _id: HAZARD,
    type: 'hazard',
    status: 'open',
    item: 'other',
    severity: 'general',
    deadline: '2099-01-01',
    rectifications: [],
  });
});

afterEach(() => {
  setLang('zh-CN');
  updateSyncFacts({ online: true, pendingDocs: 0, pendingPhotos: 0, refused: 0 });
});

/** Send a fix on its screen, and come back to the home as the form does. */
async function sendFix(): Promise<HTMLElement> {
  const { node } = rectifyView('S0001', HAZARD);
  document.body.append(node);
  await vi.waitFor(() => expect(node.querySelector('[data-form=rectification]')).not.toBeNull());
  const form = node.querySelector<HTMLFormElement>('[data-form=rectification]')!;
  form.querySelector('textarea')!.value = '已清理';
  form.dispatchEvent(new Event('submit', { cancelable: true }));
  await vi.waitFor(() => expect(location.pathname).toBe('/s/S0001'));
  node.remove();
  const home = document.createElement('div');
  document.body.append(home);
  mountOwnerHome('S0001', home);
  return home;
}

const said = (home: HTMLElement): string | null => home.querySelector('[data-saved]')?.textContent ?? null;

/** The server acknowledged what waited: the header says 已同步. */
function uploaded(): void {
  fake.unsent.clear();
  updateSyncFacts({ pendingDocs: 0 });
}

describe('the home after a fix is sent', () => {
  it('online: says it is uploading, then that it was uploaded once the header says 已同步', async () => {
    updateSyncFacts({ online: true, pendingDocs: 0, pendingPhotos: 0 });
    const home = await sendFix();
    await vi.waitFor(() => expect(said(home)).toBe('整改已保存，正在上传，之后等待网格员核查。'));
    uploaded();
    await vi.waitFor(() => expect(said(home)).toBe('整改已上传。'));
    expect(home.textContent).not.toContain('联网后自动上传');
  });

  it('offline: says it uploads when online, then follows the upload once the signal is back', async () => {
    updateSyncFacts({ online: false });
    const home = await sendFix();
    await vi.waitFor(() => expect(said(home)).toBe('整改已保存，联网后自动上传，等待网格员核查。'));
    updateSyncFacts({ online: true });
    await vi.waitFor(() => expect(said(home)).toBe('整改已保存，正在上传，之后等待网格员核查。'));
    uploaded();
    await vi.waitFor(() => expect(said(home)).toBe('整改已上传。'));
  });

  it('once it said uploaded, keeps saying so when the signal is lost or another document waits (it is on the server)', async () => {
    const home = await sendFix();
    uploaded();
    await vi.waitFor(() => expect(said(home)).toBe('整改已上传。'));
    updateSyncFacts({ pendingDocs: 1 }); // the owner's next self-check waits
    updateSyncFacts({ online: false });
    await new Promise((r) => setTimeout(r, 50));
    expect(said(home)).toBe('整改已上传。');
    expect(home.querySelector<HTMLElement>('[data-saved]')!.dataset.saved).toBe('uploaded');
  });

  it('in English too', async () => {
    setLang('en');
    const home = await sendFix();
    await vi.waitFor(() => expect(said(home)).toBe('Rectification saved; uploading, then a grid worker verifies it.'));
    uploaded();
    await vi.waitFor(() => expect(said(home)).toBe('Rectification uploaded.'));
  });

  it('says nothing that is no longer true once the grid worker passed the fix, the home left open meanwhile', async () => {
    const home = await sendFix();
    uploaded();
    await vi.waitFor(() => expect(home.querySelector('[data-saved=uploaded]')).not.toBeNull());
    // The grid worker's verification comes down: the hazard is closed, the points given back.
    const at = '2026-12-02T08:18:00Z';
    fake.docs.set(HAZARD, { ...fake.docs.get(HAZARD)!, status: 'closed', closed_at: at, history: [{ status: 'closed', at }] });
    fake.redraw?.();
    await vi.waitFor(() => expect(home.querySelector('[data-hazard]')).toBeNull());
    // It read 「整改已上传，等待网格员核查。」 above 「已通过核查」 all day.
    expect(home.textContent).not.toContain('等待网格员核查');
    expect(said(home)).toBe('整改已上传。');
  });
});
