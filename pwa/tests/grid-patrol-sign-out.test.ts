// @vitest-environment happy-dom
// 退出登录 deletes the grid worker's patrol draft with the session. As the owner's self-check did, a patrol whose
// answers the worker changed (no photo taken) was lost without a word, where one with a photo was asked about first.
// The form saves its draft as soon as it opens, the owner's answers prefilled: that draft holds nothing the worker
// entered, and signing out asks nothing of it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TemplateDoc } from '../src/grid/docs';
import templateJson from '../../server/models/data/template-fire-gas.json';
import { FakeLocalDb, selfCheckInOrder, shop } from './grid-fixtures';

const phone = vi.hoisted(() => ({ db: null as unknown, waiting: 0 }));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  refusedIds: () => new Set<string>(),
  whileShown: () => undefined,
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
  pendingCounts: async () => ({ docs: phone.waiting, photos: 0 }),
  countPending: async () => phone.waiting,
}));
vi.mock('../src/session', () => ({
  currentSession: () => ({ token: 't', user: { id: 'grid:zhou01', role: 'grid' } }),
  signOut: vi.fn(async () => undefined),
}));
vi.mock('../src/photo-cache', () => ({ thumbUrl: async (id: string) => `blob:${id}` }));

import { prefillVisit, patrolEntered, type Visit } from '../src/grid/patrol-logic';
import { patrolView } from '../src/grid/patrol';
import { LEAVING_EVENT } from '../src/router';
import { signOut } from '../src/session';
import { signOutButton } from '../src/sign-out';

const TEMPLATE = templateJson as unknown as TemplateDoc;
const DRAFT = 'mashang.draft.grid.patrol.S0001';
const confirm = vi.fn((_question: string) => false);

beforeEach(() => {
  localStorage.clear();
  document.body.replaceChildren();
  const db = new FakeLocalDb();
  db.write(shop('S0001'), TEMPLATE, selfCheckInOrder(TEMPLATE)); // the owner's answers prefill the patrol
  phone.db = db;
  phone.waiting = 0;
  confirm.mockReset().mockReturnValue(false);
  vi.stubGlobal('confirm', confirm);
  vi.mocked(signOut).mockClear();
});

afterEach(() => vi.unstubAllGlobals());

/** The patrol form of S0001, drawn. */
async function patrolForm(): Promise<HTMLElement> {
  const view = patrolView('S0001');
  document.body.append(view.node);
  await vi.waitFor(() => expect(view.node.querySelector('form.g-patrol [data-summary]')).not.toBeNull());
  return view.node;
}

/** The worker goes back to the shop list (the router says so first: the draft is saved then). */
function leave(form: HTMLElement): void {
  window.dispatchEvent(new Event(LEAVING_EVENT));
  form.remove();
}

/** 退出登录 under the shop list: what it asked, and whether it signed out. */
async function signOutFromList(): Promise<{ asked: string[]; signedOut: boolean }> {
  const after = vi.fn();
  const button = signOutButton(after);
  document.body.append(button);
  button.click();
  await vi.waitFor(() => expect(confirm.mock.calls.length > 0 || after.mock.calls.length > 0).toBe(true));
  return { asked: confirm.mock.calls.map(([q]) => q), signedOut: after.mock.calls.length > 0 };
}

function answer(node: HTMLElement, item: string, value: 'true' | 'false'): void {
  const radio = node.querySelector<HTMLInputElement>(`input[name="${item}"][value="${value}"]`)!;
  radio.checked = true;
  radio.dispatchEvent(new Event('change', { bubbles: true }));
}

describe('signing out with a patrol not submitted', () => {
  it('asks first when the worker changed an answer of the owner, no photo taken, naming the patrol', async () => {
    const form = await patrolForm();
    answer(form, 'wiring_ok', 'false'); // the owner said the wiring is in order; the worker finds it is not
    leave(form);
    const { asked, signedOut } = await signOutFromList();
    expect(asked).toEqual(['还有未提交的巡查草稿，退出后将被删除。仍然退出吗？']);
    expect(signedOut).toBe(false);
    expect(signOut).not.toHaveBeenCalled();
  });

  it('asks first for another problem noted', async () => {
    const form = await patrolForm();
    form.querySelector<HTMLButtonElement>('[data-action=add-other]')!.click();
    const note = form.querySelector<HTMLTextAreaElement>('textarea[name="note-other-1"]')!;
    note.value = '后门堆放纸箱';
    note.dispatchEvent(new Event('input'));
    leave(form);
    expect((await signOutFromList()).asked).toEqual(['还有未提交的巡查草稿，退出后将被删除。仍然退出吗？']);
  });

  it('asks nothing for a patrol only opened: its draft holds the owner\'s answers alone', async () => {
    leave(await patrolForm());
    expect(localStorage.getItem(DRAFT)).not.toBeNull();
    const { asked, signedOut } = await signOutFromList();
    expect(asked).toEqual([]);
    expect(signedOut).toBe(true);
    expect(signOut).toHaveBeenCalledWith({ discardPending: false });
  });
});

describe('what a patrol draft holds of the worker', () => {
  const visit: Visit = {
    modules: [{ template: TEMPLATE, rules: null, latest: selfCheckInOrder(TEMPLATE), unresolved: [], today: '2026-11-10' }],
    selfChecks: [selfCheckInOrder(TEMPLATE)],
  };
  const fresh = () => prefillVisit(visit, visit.selfChecks);

  it('nothing when it is the form as it opened, or an answer changed back to the owner\'s', () => {
    const draft = fresh();
    expect(patrolEntered(draft, fresh())).toBe(false);
    draft.items['wiring_ok']!.value = false;
    expect(patrolEntered(draft, fresh())).toBe(true);
    draft.items['wiring_ok']!.value = true;
    expect(patrolEntered(draft, fresh())).toBe(false);
  });

  it('a photo, a note, a deadline of their own, a self-check left unverified', () => {
    const photo = fresh();
    photo.items['gas_safe']!.ownPhotos.push('S0001:photo:01JE5000000000000000000000');
    const note = fresh();
    note.items['gas_safe']!.note = '软管老化';
    const deadline = fresh();
    deadline.items['gas_safe']!.deadline = '2099-01-01';
    const unverified = fresh();
    unverified.verified = [];
    for (const draft of [photo, note, deadline, unverified]) expect(patrolEntered(draft, fresh())).toBe(true);
  });
});
