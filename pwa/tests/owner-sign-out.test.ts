// @vitest-environment happy-dom
// 退出登录 deletes what the phone holds of the session, drafts too: the audit's owner answered half the self-check (no
// photo yet), signed out and lost it without a word, where a draft with a photo was asked about first. It asks before
// losing any unsent draft holding what the owner entered (answers, notes, photos), names it, and not for a form only
// opened or emptied again.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fireGas from '../../server/models/data/template-fire-gas.json';

import { fake, resetOwnerFakes } from './owner-fakes';

vi.mock('../src/db', async () => (await import('./owner-fakes')).ownerDb);
vi.mock('../src/session', async (actual) => ({
  ...(await actual<typeof import('../src/session')>()),
  ...(await import('./owner-fakes')).ownerSession,
  signOut: vi.fn(async () => undefined),
}));
vi.mock('../src/events', async (actual) => ({
  ...(await actual<typeof import('../src/events')>()),
  savePhoto: vi.fn(),
  photoUrl: vi.fn(async () => null),
}));
vi.mock('../src/photo-cache', async (actual) => ({
  ...(await actual<typeof import('../src/photo-cache')>()),
  keepPhotos: vi.fn(async () => undefined),
}));

import { saveDraft } from '../src/drafts';
import { setLang } from '../src/i18n';
import { checkView, mountOwnerHome, rectifyView } from '../src/owner';
import { LEAVING_EVENT } from '../src/router';
import { signOut } from '../src/session';

const HAZARD = 'S0001:hazard:01JE0000000000000000000000-f1';
const CHECK_DRAFT = 'mashang.draft.check:S0001';
const RECTIFY_DRAFT = `mashang.draft.rectify:${HAZARD}`;

const confirm = vi.fn((_question: string) => false);

beforeEach(() => {
  resetOwnerFakes();
  fake.docs.set(fireGas._id, fireGas as unknown as Record<string, unknown>);
  fake.docs.set(HAZARD, {
    _id: HAZARD,
    type: 'hazard',
    status: 'open',
    item: 'other',
    severity: 'general',
    deadline: '2099-01-01',
    rectifications: [],
  });
  confirm.mockReset().mockReturnValue(false);
  vi.stubGlobal('confirm', confirm);
  vi.mocked(signOut).mockClear();
});

afterEach(() => {
  vi.unstubAllGlobals();
  setLang('zh-CN');
});

/** The self-check form, its checklist drawn. */
async function selfCheck(): Promise<HTMLElement> {
  const { node } = checkView('S0001');
  document.body.append(node);
  await vi.waitFor(() => expect(node.querySelector('[data-form=self-check] input[name=open_flame]')).not.toBeNull());
  return node;
}

/** The rectify screen's form. */
async function rectify(): Promise<HTMLElement> {
  const { node } = rectifyView('S0001', HAZARD);
  document.body.append(node);
  await vi.waitFor(() => expect(node.querySelector('[data-form=rectification]')).not.toBeNull());
  return node;
}

/** The owner leaves the form for the home (the router says so before the next screen: its draft is saved then). */
function leave(form: HTMLElement): void {
  window.dispatchEvent(new Event(LEAVING_EVENT));
  form.remove();
}

/** 退出登录 on the owner's home: what it asked (the owner answers `yes`), and whether it signed out. */
async function signOutFromHome(yes = false): Promise<{ asked: string[]; signedOut: boolean }> {
  confirm.mockReturnValue(yes);
  const home = document.createElement('div');
  document.body.append(home);
  mountOwnerHome('S0001', home);
  home.querySelector<HTMLButtonElement>('[data-action=sign-out]')!.click();
  const signedOut = (): boolean => vi.mocked(signOut).mock.calls.length > 0;
  await vi.waitFor(() => expect(confirm.mock.calls.length > 0 || signedOut()).toBe(true));
  await new Promise((r) => setTimeout(r, 10)); // a sign-out agreed to goes on after the question
  home.remove();
  return { asked: confirm.mock.calls.map(([q]) => q), signedOut: signedOut() };
}

function answer(page: HTMLElement, item: string, value: 'true' | 'false'): void {
  const radio = page.querySelector<HTMLInputElement>(`input[name="${item}"][value="${value}"]`)!;
  radio.checked = true;
  radio.dispatchEvent(new Event('change', { bubbles: true }));
}

describe('signing out with a self-check answered halfway, no photo taken', () => {
  beforeEach(async () => {
    const form = await selfCheck();
    answer(form, 'open_flame', 'false');
    answer(form, 'wiring_ok', 'true');
    leave(form);
    expect(localStorage.getItem(CHECK_DRAFT)).not.toBeNull();
  });

  it('asks first, naming the unsent self-check, and keeps the session when the owner says no', async () => {
    const { asked, signedOut } = await signOutFromHome(false);
    expect(asked).toEqual(['还有未提交的自查草稿，退出后将被删除。仍然退出吗？']);
    expect(signedOut).toBe(false);
    expect(signOut).not.toHaveBeenCalled();
    expect(localStorage.getItem(CHECK_DRAFT)).not.toBeNull();
  });

  it('signs out, the draft discarded with the rest, when the owner says yes', async () => {
    const { asked, signedOut } = await signOutFromHome(true);
    expect(asked).toHaveLength(1);
    expect(signedOut).toBe(true);
    expect(signOut).toHaveBeenCalledWith({ discardPending: true });
  });

  it('says it beside what waits for the server, in English too', async () => {
    fake.unsent.add('S0001:self_check:01JE7000000000000000000000');
    expect((await signOutFromHome()).asked).toEqual([
      '还有 1 条数据未上传，未提交的自查草稿也将被删除。仍然退出并删除这些数据吗？',
    ]);
    setLang('en');
    confirm.mockClear();
    expect((await signOutFromHome()).asked).toEqual([
      '1 item is not uploaded yet, and your unsent self-check draft will be deleted too. Sign out and delete them anyway?',
    ]);
  });
});

describe('signing out with a rectification written and not sent', () => {
  it('asks first for a note alone, naming the rectification', async () => {
    const form = await rectify();
    const note = form.querySelector('textarea')!;
    note.value = '纸箱已清走';
    note.dispatchEvent(new Event('input'));
    leave(form);
    expect(localStorage.getItem(RECTIFY_DRAFT)).not.toBeNull();
    expect((await signOutFromHome()).asked).toEqual(['还有未提交的整改草稿，退出后将被删除。仍然退出吗？']);
    expect(signOut).not.toHaveBeenCalled();
  });

  it('names both drafts when both hold something', async () => {
    const check = await selfCheck();
    answer(check, 'open_flame', 'false');
    leave(check);
    const form = await rectify();
    form.querySelector('textarea')!.value = '已清理';
    form.querySelector('textarea')!.dispatchEvent(new Event('input'));
    leave(form);
    expect((await signOutFromHome()).asked).toEqual(['还有未提交的自查草稿、整改草稿，退出后将被删除。仍然退出吗？']);
  });
});

describe('signing out with nothing entered', () => {
  it('asks nothing for a form only opened, or a note typed and erased again', async () => {
    leave(await selfCheck());
    const form = await rectify();
    const note = form.querySelector('textarea')!;
    note.value = '已';
    note.dispatchEvent(new Event('input'));
    note.value = '  ';
    note.dispatchEvent(new Event('input'));
    leave(form);
    expect(localStorage.getItem(RECTIFY_DRAFT)).not.toBeNull(); // saved, and empty
    const { asked, signedOut } = await signOutFromHome();
    expect(asked).toEqual([]);
    expect(signedOut).toBe(true);
    expect(signOut).toHaveBeenCalledWith({ discardPending: false });
  });

  it('still asks when only records wait for the server, as before', async () => {
    fake.unsent.add('S0001:self_check:01JE7000000000000000000000');
    expect((await signOutFromHome()).asked).toEqual(['还有 1 条数据未上传。仍然退出并删除这些数据吗？']);
  });
});

describe('a draft saved before drafts said whether they held anything', () => {
  it('is asked about when it names a photo, as before; one without is not', async () => {
    const legacy = (value: unknown): string => JSON.stringify({ value, saved_at: 1 });
    localStorage.setItem(CHECK_DRAFT, legacy({ answers: { open_flame: { value: false } } }));
    expect((await signOutFromHome()).asked).toEqual([]);
    localStorage.setItem(RECTIFY_DRAFT, legacy({ note: '', photos: ['S0001:photo:01JE5000000000000000000000'] }));
    expect((await signOutFromHome()).asked).toEqual(['还有未提交的表单草稿，退出后将被删除。仍然退出吗？']);
  });

  it('is asked about when the form that saved it said nothing of it', async () => {
    saveDraft('elsewhere', { n: 1 });
    expect((await signOutFromHome()).asked).toEqual(['还有未提交的表单草稿，退出后将被删除。仍然退出吗？']);
  });
});
