// @vitest-environment happy-dom
// The owner's side: a rectification on the phone the server has not reflected yet, hazard labels and notes, a full
// phone while a photo is saved, which score the card shows, the home after a self-check done offline, and the
// hazards' photos kept on the phone for a day without signal.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fireGas from '../../server/models/data/template-fire-gas.json';

import { fake, resetOwnerFakes } from './owner-fakes';

vi.mock('../src/db', async () => (await import('./owner-fakes')).ownerDb);
vi.mock('../src/session', async (actual) => ({
  ...(await actual<typeof import('../src/session')>()),
  ...(await import('./owner-fakes')).ownerSession,
}));
vi.mock('../src/events', async (actual) => ({
  ...(await actual<typeof import('../src/events')>()),
  savePhoto: vi.fn(),
  // No photo on the phone nor a network, unless a test says otherwise.
  photoUrl: vi.fn(async () => null),
}));
// The real cache of hazard photos, but what the home asks it to keep is only recorded (no Cache Storage here).
vi.mock('../src/photo-cache', async (actual) => ({
  ...(await actual<typeof import('../src/photo-cache')>()),
  keepPhotos: vi.fn(async () => undefined),
}));

import { chooseScore, type Card } from '../src/card';
import { buildChecklistForm, type Template } from '../src/checklist';
import { photoUrl, savePhoto } from '../src/events';
import { keepPhotos } from '../src/photo-cache';
import { setLang } from '../src/i18n';
import { updateSyncFacts } from '../src/sync-status';
import type { TemplateItem } from '../src/items';
import { checkView, mountOwnerHome, rectifyView } from '../src/owner';
import { matchRoute, rectifyPath } from '../src/router';
import { newUlid, shanghaiDay, shanghaiIso } from '../src/ulid';
import { view } from '../src/views';
import { hazardItemLabel, hazardShown } from '../src/owner-hazards';

const HAZARD = 'S0001:hazard:01JE0000000000000000000000-f1';
const RECT = 'S0001:rectification:01JE1000000000000000000000';

function hazard(extra: Record<string, unknown> = {}) {
  return {
    _id: HAZARD,
    type: 'hazard',
    shop: 'S0001',
    status: 'open' as const,
    item: 'other',
    severity: 'general',
    deadline: '2099-01-01',
    note: '后门堆放纸箱，堵塞通道',
    rectifications: [] as string[],
    ...extra,
  };
}

const rectification = { _id: RECT, type: 'rectification', shop: 'S0001', hazard: HAZARD, note: '已清理', photos: [] };

beforeEach(resetOwnerFakes);

afterEach(() => {
  setLang('zh-CN');
  updateSyncFacts({ online: true });
});

describe("a hazard's state on the owner's phone", () => {
  it('can be rectified while no rectification of it is on the phone or on the server', () => {
    expect(hazardShown(HAZARD, hazard(), [])).toBe('fix');
    expect(hazardShown(HAZARD, hazard({ status: 'overdue' }), [])).toBe('fix');
    // Another hazard's rectification does not count.
    expect(hazardShown(HAZARD, hazard(), [{ ...rectification, hazard: 'S0001:hazard:other' }])).toBe('fix');
  });

  it('waits to upload a rectification saved offline, then waits for the server to derive it', () => {
    expect(hazardShown(HAZARD, hazard(), [rectification], new Set([RECT]))).toBe('unsent');
    expect(hazardShown(HAZARD, hazard(), [rectification], new Set())).toBe('sent');
    // The phone may not have the hazard document at all.
    expect(hazardShown(HAZARD, null, [rectification], new Set([RECT]))).toBe('unsent');
  });

  it('counts a rectification of a finding the server merged into the hazard (one of its aliases)', () => {
    // Fixed offline as the patrol's hazard; the server has since merged that finding into this older hazard.
    const ofMerged = { ...rectification, hazard: 'S0001:hazard:01P-open_flame' };
    expect(hazardShown(HAZARD, hazard({ aliases: [ofMerged.hazard] }), [ofMerged], new Set([RECT]))).toBe('unsent');
    expect(hazardShown(HAZARD, hazard(), [ofMerged], new Set([RECT]))).toBe('fix'); // another hazard's, without it
  });

  it("follows the server once its hazard lists the rectification", () => {
    expect(hazardShown(HAZARD, hazard({ status: 'rectified', rectifications: [RECT] }), [rectification])).toBe('rectified');
    // The grid worker failed the fix: it is open again and the old rectification does not hide the button.
    expect(hazardShown(HAZARD, hazard({ status: 'open', rectifications: [RECT] }), [rectification])).toBe('fix');
    expect(hazardShown(HAZARD, hazard({ status: 'closed', rectifications: [RECT] }), [rectification])).toBe('closed');
  });

  it('lets the owner rectify again when the server refused the rectification', () => {
    expect(hazardShown(HAZARD, hazard(), [rectification], new Set(), new Set([RECT]))).toBe('fix');
  });
});

describe('hazard item names', () => {
  const items = new Map<string, TemplateItem>((fireGas as unknown as Template).items.map((i) => [i.id, i]));

  it('names an "other" finding, in both languages', () => {
    expect(hazardItemLabel(items, 'other')).toBe('其他问题');
    expect(hazardItemLabel(items, 'no_such_item')).toBe('no_such_item');
    setLang('en');
    expect(hazardItemLabel(items, 'other')).toBe('Other problem');
  });

  it('names a hazard by its question and the answer that made it one, not by the question alone', () => {
    setLang('zh-CN');
    expect(hazardItemLabel(items, 'open_flame')).toBe('居住区域是否使用明火：是');
    expect(hazardItemLabel(items, 'extinguisher_valid')).toBe('灭火器是否在有效期内：否');
    expect(hazardItemLabel(items, 'sleeping_people')).toMatch(/：多于 0$/);
    setLang('en');
    expect(hazardItemLabel(items, 'extinguisher_valid')).toMatch(/: No$/);
  });
});

async function ownerHome(): Promise<HTMLElement> {
  const into = document.createElement('div');
  document.body.append(into);
  mountOwnerHome('S0001', into);
  await vi.waitFor(() => expect(into.querySelector('[data-hazard]')).not.toBeNull());
  return into;
}

describe("the owner's home", () => {
  beforeEach(() => {
    fake.docs.set(HAZARD, hazard());
    fake.docs.set('S0001:alarm:01JE2000000000000000000000', {
      _id: 'S0001:alarm:01JE2000000000000000000000',
      status: 'open',
      created_at: '2026-01-05T10:00:00+08:00',
      items: [{ item: 'other', severity: 'major' }],
    });
  });

  it('names "other" hazards and alarms, and shows the note of the hazard', async () => {
    const home = await ownerHome();
    const item = home.querySelector(`[data-hazard="${HAZARD}"]`)!;
    expect(item.querySelector('strong')!.textContent).toBe('其他问题');
    expect(item.querySelector('[data-hazard-note]')!.textContent).toContain('后门堆放纸箱，堵塞通道');
    expect(item.querySelector('a[data-action=rectify]')).not.toBeNull();
    expect(home.querySelector('[data-alarm]')!.textContent).toContain('其他问题');
    expect(home.textContent).not.toMatch(/\bother\b/);
  });

  it("says what an overdue hazard has cost since its deadline, and a photo it has no copy of offline", async () => {
    fake.docs.set(HAZARD, hazard({ status: 'overdue', deadline: '2026-01-01', cost: 2, photos: ['S0001:photo:01JE3000000000000000000000'] }));
    for (const week of [1, 2]) {
      const id = `S0001:ledger:01JE0000000000000000000000-f1.w${week}:overdue`;
      fake.docs.set(id, { _id: id, type: 'ledger', rule: 'overdue', points: -2, source: HAZARD, day: '2026-01-0' + (week + 1) });
    }
    updateSyncFacts({ online: false });
    const item = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    expect(item.querySelector('.hazard-cost')!.textContent).toBe('网格员巡查发现 · 扣 2 分，逾期已扣 4 分，整改核查前每周再扣 2 分');
    await vi.waitFor(() => expect(item.querySelector('[data-photo-offline]')?.textContent).toBe('联网后显示照片'));
  });

  it('stops promising more weeks overdue once a late fix is sent: the fix stops the clock', async () => {
    // The audit's owner sent the fix of a hazard overdue for 4 weeks and still read 整改核查前每周再扣 2 分 under
    // it, though the server counts no week after the fix (server/validators/hazards.py `delay_end`).
    for (const week of [1, 2]) {
      const id = `S0001:ledger:01JE0000000000000000000000-f1.w${week}:overdue`;
      fake.docs.set(id, { _id: id, type: 'ledger', rule: 'overdue', points: -2, source: HAZARD, day: '2026-01-0' + (week + 1) });
    }
    const history = [
      { status: 'open', at: '2025-12-30T10:00:00+08:00' },
      { status: 'overdue', at: '2026-01-02T00:00:00+08:00' },
      { status: 'rectified', at: '2026-01-10T09:00:00+08:00' },
    ];
    fake.docs.set(HAZARD, hazard({ status: 'rectified', deadline: '2026-01-01', cost: 2, history, rectifications: [RECT] }));
    const waiting = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    expect(waiting.getAttribute('data-overdue')).toBe('true'); // it came late: still said
    expect(waiting.querySelector('.hazard-cost')!.textContent).toBe('网格员巡查发现 · 扣 2 分，逾期已扣 4 分；整改已提交，核查通过就不再扣分');
    // Sent offline, not uploaded yet: the same (the server credits the fix when it was made).
    fake.docs.set(HAZARD, hazard({ status: 'overdue', deadline: '2026-01-01', cost: 2 }));
    fake.docs.set(RECT, { ...rectification, performed_at: '2026-01-10T09:00:00+08:00' });
    fake.unsent.add(RECT);
    setLang('en');
    const unsent = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    expect(unsent.getAttribute('data-shown')).toBe('unsent');
    expect(unsent.querySelector('.hazard-cost')!.textContent).toBe(
      'Found by the grid worker · 2 points taken; 4 more taken for being overdue; no more if the fix you sent passes its check',
    );
  });

  it("says what the patrol's finding cost for a self-check that declared the item in order, not its cost alone", async () => {
    // The audit's owner lost 5 points to the patrol (−2 for the hazard, −3 as 自查未如实填报) and read 扣 2 分 under it.
    fake.docs.set(HAZARD, hazard({ cost: 2 }));
    const id = 'S0001:ledger:01JE0000000000000000000000-f1:false_self_report';
    fake.docs.set(id, { _id: id, type: 'ledger', rule: 'false_self_report', points: -3, source: HAZARD, day: '2026-01-02' });
    const item = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    expect(item.querySelector('.hazard-cost')!.textContent).toBe(
      '网格员巡查发现 · 扣 2 分，按期整改并通过核查返还 1 分，自查未如实填报，另扣 3 分（不返还）',
    );
    setLang('en');
    const english = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"] .hazard-cost`)!;
    expect(english.textContent).toContain('the self-check said it was in order: 3 more points taken (not given back)');
    fake.docs.delete(id);
  });

  it('says reward points come from a patrol that finds no new hazard, not from a patrol with none at all', async () => {
    // SPEC: +5 for a patrol that finds no NEW hazard; 「巡查无隐患」 read as if a hazard still open cost them.
    fake.docs.set('S0001:rewards', { _id: 'S0001:rewards', balance: 14, earned: 19, redeemed: 5 });
    const hint = async (): Promise<string> => {
      const home = await ownerHome();
      await vi.waitFor(() => expect(home.querySelector('[data-rewards]')).not.toBeNull());
      return home.querySelector('[data-rewards] .muted')!.textContent!;
    };
    expect(await hint()).toBe('每周自查、网格员巡查未发现新隐患都能得积分，可到街道安监所兑换奖品。');
    setLang('en');
    expect(await hint()).toContain('patrols that find no new hazard');
    fake.docs.delete('S0001:rewards');
  });

  it('lists what the reward points were exchanged for under the balance', async () => {
    fake.docs.set('S0001:rewards', { _id: 'S0001:rewards', balance: 14, earned: 19, redeemed: 5 });
    const id = 'S0001:redemption:000001';
    fake.docs.set(id, { _id: id, type: 'redemption', points: 5, prize: '灭火器一具', performed_at: '2026-11-20T10:00:00+08:00' });
    const home = await ownerHome();
    await vi.waitFor(() => expect(home.querySelector('[data-redemptions]')).not.toBeNull());
    expect(home.querySelector('[data-redemptions] summary')!.textContent).toBe('兑换记录（1 次）');
    expect(home.querySelector(`[data-redemption="${id}"]`)!.textContent).toBe('2026-11-20 · 灭火器一具 · 用去 5 积分');
    fake.docs.delete('S0001:rewards');
    fake.docs.delete(id);
  });

  it('says what the black list means and the way off it, and who handles an alarm', async () => {
    fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '1-a', points: 71, list: 'black' });
    const home = await ownerHome();
    await vi.waitFor(() => expect(home.querySelector('[data-list-explained=black]')).not.toBeNull());
    expect(home.querySelector('[data-list-explained]')!.textContent).toContain('按期整改隐患可以提高积分');
    expect(home.querySelector('[data-alarms-explained]')!.textContent).toContain('由安监所安排处置');
    fake.docs.delete('S0001:score');
  });

  it('tells a shop flagged for a working group that it is, not that it will be', async () => {
    fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '1-a', points: 68, list: 'black', working_group: true });
    const home = await ownerHome();
    await vi.waitFor(() => expect(home.querySelector('[data-list-explained=black]')).not.toBeNull());
    const text = home.querySelector('[data-list-explained]')!.textContent;
    expect(text).toContain('已被列入专班整治');
    expect(text).not.toContain('将被列入');
    fake.docs.delete('S0001:score');
  });

  it('says why a shop ranked within a list\'s places is not on it: tied with the shops past the cut', async () => {
    // 30 shops, 5% but at least 10 on each list: rank 10 is within the red list's places. The server leaves it off
    // when it is tied with rank 11 (ranking.py never splits a tie); the owner saw 排名 10/30 and no chip.
    fake.docs.set('district:rules', { _id: 'district:rules', _rev: '1-a', list_share_percent: 5, list_min_shops: 10 });
    fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '1-a', points: 102, rank: 10, of: 30, list: null });
    const home = await ownerHome();
    await vi.waitFor(() => expect(home.querySelector('[data-list-tied=red]')).not.toBeNull());
    expect(home.querySelector('[data-list-tied]')!.textContent).toContain('同分的店铺不拆开上榜');
    fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '2-a', points: 100, rank: 11, of: 30, list: null });
    const later = await ownerHome();
    expect(later.querySelector('[data-week-done]')).not.toBeNull();
    expect(later.querySelector('[data-list-tied]')).toBeNull(); // outside both lists' places: nothing to explain
    fake.docs.delete('S0001:score');
    fake.docs.delete('district:rules');
  });

  it('shows a rectification saved offline as waiting to upload, without the rectify button', async () => {
    fake.docs.set(RECT, rectification);
    fake.unsent.add(RECT);
    const item = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    expect(item.getAttribute('data-shown')).toBe('unsent');
    expect(item.querySelector('a')).toBeNull();
    expect(item.textContent).toContain('整改已提交，待上传');
  });

  it('shows an uploaded rectification the server has not derived as waiting for the grid worker', async () => {
    fake.docs.set(RECT, rectification);
    const item = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    expect(item.getAttribute('data-shown')).toBe('sent');
    expect(item.querySelector('a')).toBeNull();
    expect(item.textContent).toContain('等待网格员核查');
  });
});

// The audit's owner sent a fix with its photo and saw only the grid worker's photo of the hazard on its card, while
// it waited for the grid worker and after they failed it: not what was sent.
describe("the owner's fix beside the hazard's photo on the home", () => {
  const FOUND = 'S0001:photo:01JE3000000000000000000000';
  const FIXED = 'S0001:photo:01JE5000000000000000000000';
  const VERIFICATION = 'S0001:verification:01JE6000000000000000000000';
  const card = async (): Promise<Element> => (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
  const group = (item: Element, kind: string): Element | null => item.querySelector(`[data-photo-group=${kind}]`);

  beforeEach(() => {
    fake.docs.set(HAZARD, hazard({ photos: [FOUND] }));
    // The fix's photo is on the phone (waiting to upload, or kept since); the hazard's is not.
    vi.mocked(photoUrl).mockImplementation(async (id) => (id === FIXED ? 'blob:fixed' : null));
  });

  afterEach(() => vi.mocked(photoUrl).mockImplementation(async () => null));

  it('shows the fix waiting to upload, from the phone, each group labelled', async () => {
    fake.docs.set(RECT, { ...rectification, photos: [FIXED] });
    fake.unsent.add(RECT);
    const item = await card();
    expect(item.getAttribute('data-shown')).toBe('unsent');
    expect(group(item, 'found')!.querySelector('.photo-label')!.textContent).toBe('隐患照片');
    expect(group(item, 'found')!.querySelector('[data-hazard-photos]')).not.toBeNull();
    expect(group(item, 'fix')!.querySelector('.photo-label')!.textContent).toBe('整改照片');
    await vi.waitFor(() => expect(group(item, 'fix')!.querySelector<HTMLImageElement>(`img[data-photo="${FIXED}"]`)?.src).toBe('blob:fixed'));
  });

  it('shows the fix the server has, waiting for the grid worker, and the one they failed, in English too', async () => {
    fake.docs.set(RECT, { ...rectification, photos: [FIXED] });
    fake.docs.set(HAZARD, hazard({ photos: [FOUND], status: 'rectified', rectifications: [RECT] }));
    expect(group(await card(), 'fix')!.querySelector(`[data-photo="${FIXED}"]`)).not.toBeNull();
    fake.docs.set(HAZARD, hazard({ photos: [FOUND], status: 'open', rectifications: [RECT] }));
    fake.docs.set(VERIFICATION, { _id: VERIFICATION, type: 'verification', hazard: HAZARD, passed: false, note: '纸箱还在' });
    setLang('en');
    const failed = await card();
    expect(failed.querySelector('[data-rejected]')).not.toBeNull();
    expect(group(failed, 'found')!.querySelector('.photo-label')!.textContent).toBe('Hazard');
    expect(group(failed, 'fix')!.querySelector('.photo-label')!.textContent).toBe('Your fix');
    expect(group(failed, 'fix')!.querySelector(`[data-photo="${FIXED}"]`)).not.toBeNull();
    fake.docs.delete(VERIFICATION);
  });

  it('shows no fix before one is sent', async () => {
    const item = await card();
    expect(group(item, 'found')).not.toBeNull();
    expect(group(item, 'fix')).toBeNull();
  });
});

describe('the card above the home', () => {
  it('is drawn again when the server scored something (a new `{code}:score` revision), not on other changes', async () => {
    fake.docs.set(HAZARD, hazard());
    fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '1-a', points: 80 });
    const onScore = vi.fn();
    const into = document.createElement('div');
    document.body.append(into);
    mountOwnerHome('S0001', into, onScore);
    await vi.waitFor(() => expect(into.querySelector('[data-hazard]')).not.toBeNull());
    fake.redraw!();
    await new Promise((r) => setTimeout(r, 20));
    expect(onScore).not.toHaveBeenCalled();
    fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '2-b', points: 85 });
    fake.redraw!();
    await vi.waitFor(() => expect(onScore).toHaveBeenCalledTimes(1));
  });
});

describe('the rectify screen', () => {
  async function open(): Promise<HTMLElement> {
    const { node } = rectifyView('S0001', HAZARD);
    document.body.append(node);
    await vi.waitFor(() => expect(node.querySelector('h1 + *')).not.toBeNull());
    await vi.waitFor(() => expect(node.querySelector('form, .notice')).not.toBeNull());
    return node;
  }

  it('shows the hazard with its name and note, and the form', async () => {
    fake.docs.set(HAZARD, hazard());
    const page = await open();
    expect(page.textContent).toContain('其他问题');
    expect(page.querySelector('[data-hazard-note]')!.textContent).toContain('后门堆放纸箱，堵塞通道');
    expect(page.querySelector('[data-form=rectification]')).not.toBeNull();
  });

  it('says an overdue hazard is overdue, not its deadline alone', async () => {
    fake.docs.set(HAZARD, hazard({ status: 'overdue', deadline: '2026-01-01' }));
    const page = await open();
    expect(page.querySelector('[data-overdue=true]')!.textContent).toBe('整改期限 2026-01-01 · 已逾期');
    fake.docs.set(HAZARD, hazard());
    expect((await open()).querySelector('[data-overdue]')).toBeNull();
  });

  it("shows the photos the grid worker took of the hazard, where the owner photographs the fix", async () => {
    fake.docs.set(HAZARD, hazard({ photos: ['S0001:photo:01JE3000000000000000000000'] }));
    updateSyncFacts({ online: false });
    const page = await open();
    expect(page.querySelector('[data-form=rectification]')).not.toBeNull();
    // No copy on the phone and no network here: said, not an empty frame.
    await vi.waitFor(() => expect(page.querySelector('[data-hazard-photos] [data-photo-offline]')?.textContent).toBe('联网后显示照片'));
  });

  it("labels the grid worker's photo of the hazard and the fix's photo apart, as the home does", async () => {
    fake.docs.set(HAZARD, hazard({ photos: ['S0001:photo:01JE3000000000000000000000'] }));
    const page = await open();
    expect(page.querySelector('[data-photo-group=found] [data-hazard-photos]')).not.toBeNull();
    expect(page.querySelector('[data-photo-group=found] .photo-label')!.textContent).toBe('隐患照片');
    const taken = page.querySelector('[data-form=rectification] [data-photo-group=fix]')!;
    expect(taken.querySelector('.photo-label')!.textContent).toBe('整改照片');
    expect(taken.querySelector('[data-photo-for=rectification]')).not.toBeNull(); // where the fix's photo is taken
  });

  it('refuses a second rectification while one waits on the phone', async () => {
    fake.docs.set(HAZARD, hazard());
    fake.docs.set(RECT, rectification);
    fake.unsent.add(RECT);
    const page = await open();
    expect(page.querySelector('[data-form=rectification]')).toBeNull();
    expect(page.dataset.rectifyState).toBe('unsent');
    expect(page.querySelector('.notice')!.textContent).toContain('无需重复提交');
  });

  // The owner opened the screen of a fix sent and waiting for the grid worker (已整改待复核) and saw the grid worker's
  // photo alone, not the one they had sent, which the home's card shows.
  describe("the fix already sent, as the home's card shows it", () => {
    const FOUND = 'S0001:photo:01JE3000000000000000000000';
    const FIXED = 'S0001:photo:01JE5000000000000000000000';
    const VERIFICATION = 'S0001:verification:01JE6000000000000000000000';
    const fixGroup = (page: HTMLElement): Element | null => page.querySelector(`[data-photo-group=fix]:has([data-fix-photos="${RECT}"])`);

    beforeEach(() => vi.mocked(photoUrl).mockImplementation(async (id) => (id === FIXED ? 'blob:fixed' : null)));
    afterEach(() => vi.mocked(photoUrl).mockImplementation(async () => null));

    it('shows its photos while it waits for the grid worker, labelled apart from the hazard\'s', async () => {
      fake.docs.set(HAZARD, hazard({ photos: [FOUND], status: 'rectified', rectifications: [RECT] }));
      fake.docs.set(RECT, { ...rectification, photos: [FIXED] });
      const page = await open();
      expect(page.dataset.rectifyState).toBe('rectified');
      expect(page.querySelector('[data-photo-group=found] [data-hazard-photos]')).not.toBeNull();
      const fix = fixGroup(page)!;
      expect(fix.querySelector('.photo-label')!.textContent).toBe('整改照片');
      await vi.waitFor(() => expect(fix.querySelector<HTMLImageElement>(`img[data-photo="${FIXED}"]`)?.src).toBe('blob:fixed'));
    });

    it('shows them from the phone, offline, while the fix waits to upload', async () => {
      fake.docs.set(HAZARD, hazard({ photos: [FOUND] }));
      fake.docs.set(RECT, { ...rectification, photos: [FIXED] });
      fake.unsent.add(RECT);
      updateSyncFacts({ online: false });
      const page = await open();
      expect(page.dataset.rectifyState).toBe('unsent');
      await vi.waitFor(() => expect(fixGroup(page)!.querySelector<HTMLImageElement>(`img[data-photo="${FIXED}"]`)?.src).toBe('blob:fixed'));
    });

    it("shows the one the grid worker failed above the form for the next, in English too", async () => {
      fake.docs.set(HAZARD, hazard({ photos: [FOUND], status: 'open', rectifications: [RECT] }));
      fake.docs.set(RECT, { ...rectification, photos: [FIXED] });
      fake.docs.set(VERIFICATION, { _id: VERIFICATION, type: 'verification', hazard: HAZARD, passed: false, note: '纸箱还在' });
      setLang('en');
      const page = await open();
      expect(page.querySelector('[data-rejected]')).not.toBeNull();
      expect(fixGroup(page)!.querySelector('.photo-label')!.textContent).toBe('Your fix');
      expect(fixGroup(page)!.closest('form')).toBeNull(); // not the photo the form takes
      expect(page.querySelector('[data-form=rectification] [data-photo-group=fix]')).not.toBeNull();
    });

    it('shows none before a fix is sent', async () => {
      fake.docs.set(HAZARD, hazard({ photos: [FOUND] }));
      const page = await open();
      expect(page.querySelector('[data-fix-photos]')).toBeNull();
    });
  });
});

// The grid worker's patrol marks an item whose hazard is not closed yet; the owner's self-check did not, and the owner
// answered 灭火器在有效期内：是 with no word that the hazard found on it was still to fix (or overdue).
describe('the self-check form, under an item with a hazard not closed yet', () => {
  const of = (item: string): string => `S0001:hazard:01JE0000000000000000000000-${item}`;
  const WIRING_FIX = 'S0001:rectification:01JE4000000000000000000000';

  beforeEach(() => {
    fake.docs.set(fireGas._id, fireGas as unknown as Record<string, unknown>);
    const found = (item: string, extra: Record<string, unknown>) => fake.docs.set(of(item), hazard({ _id: of(item), item, ...extra }));
    found('extinguisher_valid', { deadline: '2099-12-05' });
    found('escape_route', { status: 'overdue', deadline: '2026-01-01' });
    found('three_in_one', { status: 'open', deadline: '2026-01-01' }); // past its deadline, not marked by the server yet
    found('gas_safe', { status: 'rectified', rectifications: [RECT] });
    found('open_flame', { status: 'closed', deadline: '2026-01-01' });
    // Fixed on this phone, not uploaded yet.
    found('wiring_ok', { deadline: '2099-12-05' });
    fake.docs.set(WIRING_FIX, { ...rectification, _id: WIRING_FIX, hazard: of('wiring_ok') });
    fake.unsent.add(WIRING_FIX);
  });

  async function form(): Promise<HTMLElement> {
    const { node } = checkView('S0001');
    document.body.append(node);
    await vi.waitFor(() => expect(node.querySelector('[data-form=self-check]')).not.toBeNull());
    return node;
  }

  const line = (page: HTMLElement, item: string): HTMLElement | null =>
    page.querySelector<HTMLElement>(`fieldset[data-item="${item}"] [data-open-hazard]`);

  it('says it is still to fix and by when, under the question, with the way to its rectify screen', async () => {
    const page = await form();
    const open = line(page, 'extinguisher_valid')!;
    expect(open.dataset.openHazard).toBe('open');
    expect(open.previousElementSibling!.tagName).toBe('LEGEND');
    expect(open.firstChild!.textContent).toBe('该项有未整改隐患，限期 2099-12-05 整改');
    const link = open.querySelector<HTMLAnchorElement>('a[data-action=rectify]')!;
    expect(link.textContent).toBe('上传整改照片');
    expect(link.getAttribute('href')).toBe(rectifyPath('S0001', of('extinguisher_valid')));
  });

  it('says an overdue one is overdue, the server marked it or not yet', async () => {
    const page = await form();
    for (const item of ['escape_route', 'three_in_one']) {
      const overdue = line(page, item)!;
      expect(overdue.dataset.openHazard).toBe('overdue');
      expect(overdue.firstChild!.textContent).toBe('该项有未整改隐患，限期 2026-01-01 整改，已逾期');
      expect(overdue.querySelector('a[data-action=rectify]')).not.toBeNull();
    }
  });

  it('says a fix waits for the grid worker, with no way to fix it twice, and nothing of a closed one', async () => {
    const page = await form();
    expect(line(page, 'gas_safe')!.textContent).toBe('该项隐患已整改，待网格员复查');
    expect(line(page, 'wiring_ok')!.textContent).toBe('该项隐患已整改（待上传），待网格员复查');
    expect(page.querySelectorAll('[data-open-hazard] a')).toHaveLength(3);
    expect(line(page, 'open_flame')).toBeNull();
    expect(line(page, 'sleeping_people')).toBeNull(); // no hazard
  });

  it('changes no answer and no check of the form', async () => {
    const page = await form();
    expect(page.querySelectorAll('[data-open-hazard] input')).toHaveLength(0);
    page.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(page.querySelector('.problems')).not.toBeNull());
    // Every item is still to answer (the lines answer none of them), and the owner's answer is free.
    expect(page.querySelectorAll('.problems li')).toHaveLength(fireGas.items.length);
    expect(page.querySelectorAll('input[name=extinguisher_valid]:checked')).toHaveLength(0);
  });

  it('in English too', async () => {
    setLang('en');
    const page = await form();
    expect(line(page, 'extinguisher_valid')!.textContent).toBe('This item has a hazard to fix by 2099-12-05 Upload rectification photo');
    expect(line(page, 'escape_route')!.firstChild!.textContent).toBe('This item has a hazard to fix by 2026-01-01: overdue');
    expect(line(page, 'gas_safe')!.textContent).toBe("This item's hazard is fixed, waiting for the grid worker to verify it");
  });
});

describe('a photo that cannot be saved', () => {
  it('says the phone is full instead of the raw browser error', async () => {
    vi.mocked(savePhoto).mockRejectedValueOnce(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
    const built = buildChecklistForm([fireGas as unknown as Template], { withPhotos: true, shop: 'S0001' });
    document.body.append(built.node);
    const input = built.node.querySelector<HTMLInputElement>('input[data-photo-for=open_flame]')!;
    Object.defineProperty(input, 'files', { value: [new File([new Uint8Array([0xff, 0xd8])], 'a.jpg', { type: 'image/jpeg' })] });
    input.dispatchEvent(new Event('change'));
    await built.ready();
    const status = input.parentElement!.querySelector('[role=status]')!;
    expect(status.textContent).toBe('手机存储空间已满，请清理后再试，或导出未上传的数据。');
    expect(status.textContent).not.toContain('quota');
  });
});

describe('the score on the card', () => {
  const card = (extra: Partial<Card> = {}): Card => ({
    code: 'S0001',
    name: '小店',
    address: null,
    points: 80,
    rank: 5,
    of: 10,
    list: null,
    last_self_check: null,
    last_patrol: null,
    ...extra,
  });

  it('prefers the synced score document when it counts an event after the card was received', () => {
    const cached = card({ saved_at: '2026-01-05T01:00:00.000Z' });
    const newer = { points: 85, rank: 4, of: 10, list: null, updated_at: '2026-01-05T10:00:00+08:00' }; // 02:00Z
    expect(chooseScore(cached, false, newer)).toMatchObject({ points: 85, rank: 4, from: 'local' });
    const older = { ...newer, points: 70, updated_at: '2026-01-05T08:30:00+08:00' }; // 00:30Z
    expect(chooseScore(cached, false, older)).toMatchObject({ points: 80, rank: 5, from: 'card' });
  });

  it('without both times, a card fetched now wins and a cached one loses', () => {
    const local = { points: 85, rank: 4, of: 10, list: null, updated_at: '2026-01-05T10:00:00+08:00' };
    expect(chooseScore(card(), true, local).points).toBe(80);
    expect(chooseScore(card(), false, local).points).toBe(85);
    expect(chooseScore(card({ points: null }), true, local).points).toBe(85);
    expect(chooseScore(null, false, local).points).toBe(85);
    expect(chooseScore(card(), true, null).points).toBe(80);
    expect(chooseScore(null, false, null).points).toBeNull();
  });

  it('takes the document that changed while shown when the card cannot be fetched again', () => {
    const cached = card({ saved_at: '2026-01-05T03:00:00.000Z' });
    const local = { points: 85, rank: null, of: null, list: null, updated_at: '2026-01-05T10:00:00+08:00' };
    // Not ranked yet: the card's rank stays.
    expect(chooseScore(cached, false, local, true)).toMatchObject({ points: 85, rank: 5, of: 10, from: 'local' });
    expect(chooseScore(cached, false, local, false).points).toBe(80);
  });

  it("keeps the card's published list when the document's newer points win: its list is only provisional", () => {
    const cached = card({ list: 'red', list_month: '2026-11', saved_at: '2026-01-05T01:00:00.000Z' });
    const newer = { points: 60, rank: 9, of: 10, list: 'black' as const, updated_at: '2026-01-05T10:00:00+08:00' };
    expect(chooseScore(cached, false, newer)).toMatchObject({ points: 60, list: 'red', listMonth: '2026-11', from: 'local' });
    expect(chooseScore(null, false, newer)).toMatchObject({ points: 60, list: null, listMonth: null });
  });

  it('shows no list from a card saved before lists were named by their month: it held the provisional one', () => {
    const old = card({ list: 'black', saved_at: '2026-01-05T01:00:00.000Z' }); // no list_month at all
    expect(chooseScore(old, false, null)).toMatchObject({ points: 80, list: null, listMonth: null, from: 'card' });
    const local = { points: 85, rank: 4, of: 10, list: 'black' as const, updated_at: '2026-01-05T10:00:00+08:00' };
    expect(chooseScore(old, false, local)).toMatchObject({ points: 85, list: null, from: 'local' });
    // Nothing published yet (the server says so with a null month): no list either way.
    expect(chooseScore(card({ list: null, list_month: null }), true, null).list).toBeNull();
  });
});

// After a self-check done offline, the home agrees with itself before the upload: the card's 最近自查 is the
// day of the check on the phone (待上传), and what the owner reported (an expired extinguisher) is listed as a
// hazard to come, not 暂无待整改隐患.
const NOW = Date.now();
const CHECK = `S0001:self_check:${newUlid(NOW - 60_000)}`;
const TODAY = shanghaiDay(NOW - 60_000);

function selfCheck(id: string, at: number, answers: Record<string, boolean | number>) {
  return {
    _id: id,
    type: 'self_check',
    shop: 'S0001',
    template: fireGas._id,
    template_version: fireGas.version,
    performed_at: shanghaiIso(at),
    answers: Object.fromEntries(Object.entries(answers).map(([k, value]) => [k, { value }])),
  };
}

const IN_ORDER = { open_flame: false, escape_route: true, extinguisher_present: true, gas_safe: true };

describe('the home after a self-check done offline', () => {
  let card: Record<string, unknown>;

  beforeEach(() => {
    fake.docs.set(fireGas._id, fireGas as unknown as Record<string, unknown>);
    // The card the server has: no self-check counted yet.
    card = { code: 'S0001', name: '小吃店S0001', address: '曙光北路1号', points: 90, rank: 2, of: 30, list: null, last_self_check: null, last_patrol: null };
    fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '1-a', points: 90, updated_at: shanghaiIso(NOW - 86_400_000) });
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify(card), { status: 200 }));
  });

  afterEach(() => vi.unstubAllGlobals());

  async function ownerPage(): Promise<HTMLElement> {
    const shown = view(matchRoute('/s/S0001'), async () => null, mountOwnerHome);
    document.body.append(shown.node);
    await vi.waitFor(() => expect(shown.node.querySelector('[data-week-done]')).not.toBeNull());
    await vi.waitFor(() => expect(shown.node.querySelector('[data-shop-name]')?.textContent).toBe('小吃店S0001'));
    await new Promise((r) => setTimeout(r, 30));
    return shown.node;
  }

  describe('a self-check done offline, not uploaded yet', () => {
    beforeEach(() => {
      fake.docs.set(CHECK, selfCheck(CHECK, NOW - 60_000, { ...IN_ORDER, extinguisher_valid: false }));
      fake.unsent.add(CHECK);
    });

    it("shows the check's day on the card, waiting to upload", async () => {
      const page = await ownerPage();
      expect(page.querySelector('[data-week-done]')?.getAttribute('data-week-done')).toBe('true');
      const last = page.querySelector<HTMLElement>('[data-last-self-check]')!;
      expect(last.textContent).toBe(`${TODAY}（待上传）`);
      // Two parts, each kept to a line (style.css): the narrow card column moves 「（待上传）」 below the day, whole.
      expect([...last.children].map((part) => part.textContent)).toEqual([TODAY, '（待上传）']);
      expect(last.textContent).not.toContain('暂无');
    });

    it('lists the reported problem as a hazard to come, not 暂无待整改隐患', async () => {
      const page = await ownerPage();
      const hazards = page.querySelector('.hazards')!;
      expect(hazards.textContent).not.toContain('暂无待整改隐患');
      const pending = hazards.querySelector<HTMLElement>('[data-self-reported]')!;
      expect(pending.dataset.selfReported).toBe('extinguisher_valid');
      expect(pending.dataset.shown).toBe('unsent');
      expect(pending.textContent).toContain('灭火器');
      expect(pending.textContent).toContain('待上传后生成整改');
      expect(pending.querySelector('[data-action=rectify]')).toBeNull(); // nothing to rectify yet
    });

    it('in English too', async () => {
      setLang('en');
      const page = await ownerPage();
      expect(page.querySelector('[data-last-self-check]')?.textContent).toBe(`${TODAY} (waiting to upload)`);
      expect(page.querySelector('[data-self-reported]')?.textContent).toContain('becomes a hazard to fix once uploaded');
    });
  });

  describe('once the server has it', () => {
    it('shows the hazard itself and the card day, with nothing pending', async () => {
      fake.docs.set(CHECK, selfCheck(CHECK, NOW - 60_000, { ...IN_ORDER, extinguisher_valid: false }));
      const key = CHECK.split(':')[2];
      const hazardId = `S0001:hazard:${key}-extinguisher_valid`;
      fake.docs.set(hazardId, { _id: hazardId, status: 'open', item: 'extinguisher_valid', severity: 'general', deadline: '2099-01-01', rectifications: [] });
      fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '2-a', points: 95, updated_at: shanghaiIso(NOW) });
      card = { ...card, last_self_check: TODAY };
      const page = await ownerPage();
      expect(page.querySelector('[data-last-self-check]')?.textContent).toBe(TODAY);
      expect(page.querySelector('[data-self-reported]')).toBeNull();
      expect(page.querySelector(`[data-hazard="${hazardId}"]`)).not.toBeNull();
    });

    it('uploaded, not derived yet: the problem still shows, as coming shortly', async () => {
      fake.docs.set(CHECK, selfCheck(CHECK, NOW - 60_000, { ...IN_ORDER, extinguisher_valid: false }));
      const page = await ownerPage();
      const pending = page.querySelector<HTMLElement>('[data-self-reported]')!;
      expect(pending.dataset.shown).toBe('sent');
      expect(pending.textContent).toContain('已上传，稍后生成整改');
      expect(page.querySelector('[data-last-self-check]')?.textContent).toBe(TODAY);
    });

    it('a check in order reports nothing', async () => {
      fake.docs.set(CHECK, selfCheck(CHECK, NOW - 60_000, { ...IN_ORDER, extinguisher_valid: true }));
      fake.unsent.add(CHECK);
      const page = await ownerPage();
      expect(page.querySelector('[data-self-reported]')).toBeNull();
      expect(page.querySelector('.hazards')?.textContent).toContain('暂无待整改隐患');
    });
  });

  describe('the published list and the provisional one', () => {
    it("the card shows the office's published list with its month, the home this month's provisional one", async () => {
      // Published for November: red. This month so far, by the synced score counting a later event: black.
      card = { ...card, list: 'red', list_month: '2026-11' };
      fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '2-a', points: 60, list: 'black', updated_at: shanghaiIso(NOW) });
      const page = await ownerPage();
      const badge = page.querySelector<HTMLElement>('[data-list]')!;
      expect(badge.hidden).toBe(false);
      expect(badge.dataset.list).toBe('red'); // what the street sees on the poster's page, not 黑榜
      expect(badge.textContent).toBe('2026年11月 红榜');
      const explained = page.querySelector('[data-list-explained=black]')!;
      expect(explained.textContent).toMatch(/^本月暂列安全生产黑榜/);
    });

    it('nothing published yet: no list on the card, the provisional one on the home only', async () => {
      fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '2-a', points: 60, list: 'red', updated_at: shanghaiIso(NOW) });
      const page = await ownerPage();
      expect(page.querySelector<HTMLElement>('[data-list]')!.hidden).toBe(true);
      expect(page.querySelector('[data-list-explained=red]')?.textContent).toContain('月底安监所公示后');
    });
  });
});

describe("the hazards' photos on the phone, for a day without signal", () => {
  const photo = (name: string): string => `S0001:photo:01JE30000000000000000000${name}`;
  function found(key: string, extra: Record<string, unknown>): string {
    const id = `S0001:hazard:01JE00000000000000000000${key}-f1`;
    fake.docs.set(id, { ...hazard(), _id: id, ...extra });
    return id;
  }
  const asked = (): string[] | undefined => vi.mocked(keepPhotos).mock.calls.at(-1)?.[0];

  beforeEach(() => vi.mocked(keepPhotos).mockClear());
  afterEach(() => vi.unstubAllGlobals());

  it('the home asks to keep the photos of the hazards not closed yet, nearest deadline first; a closed one\'s leave', async () => {
    found('A1', { status: 'open', deadline: '2099-03-01', photos: [photo('A1'), photo('A2')] });
    const overdue = found('B1', { status: 'overdue', deadline: '2026-01-01', photos: [photo('B1')] });
    found('C1', { status: 'rectified', deadline: '2099-02-01', photos: [photo('C1')] }); // waiting for the grid worker
    found('D1', { status: 'closed', deadline: '2099-01-01', closed_at: shanghaiIso(Date.now()), photos: [photo('D1')] });
    found('E1', { status: 'open', deadline: '2099-01-15' }); // no photo
    await ownerHome();
    await vi.waitFor(() => expect(asked()).toEqual([photo('B1'), photo('C1'), photo('A1'), photo('A2')]));
    // The grid worker passes the overdue one's fix: its photo leaves the phone on the next redraw.
    fake.docs.set(overdue, { ...fake.docs.get(overdue), status: 'closed', closed_at: shanghaiIso(Date.now()) });
    fake.redraw!();
    await vi.waitFor(() => expect(asked()).toEqual([photo('C1'), photo('A1'), photo('A2')]));
  });

  it("keeps the photos of the owner's fix the server lists beside the hazard's, within the same handful", async () => {
    const RECT2 = 'S0001:rectification:01JE1000000000000000000002';
    const waiting = found('A1', { status: 'rectified', deadline: '2099-01-01', photos: [photo('A1')], rectifications: [RECT] });
    fake.docs.set(RECT, { ...rectification, hazard: waiting, photos: [photo('F1')] });
    // Sent offline, not uploaded: its photo is on the phone already (and not on the server to fetch).
    const unsent = found('B1', { status: 'open', deadline: '2099-02-01', photos: [photo('B1')] });
    fake.docs.set(RECT2, { ...rectification, _id: RECT2, hazard: unsent, photos: [photo('F2')] });
    fake.unsent.add(RECT2);
    await ownerHome();
    await vi.waitFor(() => expect(asked()).toEqual([photo('A1'), photo('F1'), photo('B1')]));
    for (const n of [1, 2, 3, 4]) {
      found(`0${n}`, { status: 'open', deadline: `2098-0${n}-01`, photos: [1, 2, 3].map((m) => photo(`${n}${m}`)) });
    }
    fake.redraw!();
    await vi.waitFor(() => expect(asked()).toHaveLength(12));
    expect(asked()).not.toContain(photo('F1')); // nearer deadlines first
  });

  it('keeps a handful at most: the four photos each card shows, of the nearest deadlines', async () => {
    for (const n of [1, 2, 3, 4, 5]) {
      const six = [1, 2, 3, 4, 5, 6].map((m) => photo(`${n}${m}`));
      found(`0${n}`, { status: 'open', deadline: `2099-0${6 - n}-01`, photos: six });
    }
    await ownerHome();
    await vi.waitFor(() => expect(asked()).toHaveLength(12));
    expect(asked()).toEqual([5, 4, 3].flatMap((n) => [1, 2, 3, 4].map((m) => photo(`${n}${m}`))));
  });

  /** Cache Storage holding `id` in the owner's cache, as the home's last round with signal left it. */
  function kept(id: string): void {
    const path = `/sync/${encodeURIComponent(id)}/photo.jpg`;
    const jpeg = (): Response => new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } });
    vi.stubGlobal('caches', {
      open: async (name: string) => ({
        match: async (r: string) => (name === 'mashang-grid-photos:owner:S0001' && r === path ? jpeg() : undefined),
      }),
    });
  }

  it('shows the photo kept on the phone on the home, with no network', async () => {
    kept(photo('H1'));
    fake.docs.set(HAZARD, hazard({ photos: [photo('H1')] }));
    const item = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    await vi.waitFor(() => expect(item.querySelector<HTMLImageElement>(`img[data-photo="${photo('H1')}"]`)?.src).toMatch(/^blob:/));
    expect(item.querySelector('[data-photo-offline]')).toBeNull();
  });

  it('shows the photo kept on the phone on the rectify screen, with no network', async () => {
    kept(photo('R1'));
    fake.docs.set(HAZARD, hazard({ photos: [photo('R1')] }));
    const { node } = rectifyView('S0001', HAZARD);
    document.body.append(node);
    await vi.waitFor(() =>
      expect(node.querySelector<HTMLImageElement>(`[data-hazard-photos] img[data-photo="${photo('R1')}"]`)?.src).toMatch(/^blob:/),
    );
    expect(node.querySelector('[data-photo-offline]')).toBeNull();
    expect(node.querySelector('[data-form=rectification]')).not.toBeNull();
  });
});

describe("a hazard's photo that does not load, with signal", () => {
  const PHOTO = 'S0001:photo:01JE3000000000000000000000';
  // No copy on the phone, and the server fails it (../src/events `photoUrl`: a 404, a 500, a request that died).
  beforeEach(() => {
    vi.mocked(photoUrl).mockReset().mockResolvedValue(null);
    fake.docs.set(HAZARD, hazard({ photos: [PHOTO] }));
  });
  afterEach(() => vi.mocked(photoUrl).mockReset().mockResolvedValue(null));

  it('says 加载失败，点按重试 on the hazard card, not 联网后显示照片, and shows the photo after a tap', async () => {
    const item = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    await vi.waitFor(() => expect(item.querySelector(`[data-hazard-photos] [data-photo-failed="${PHOTO}"]`)).not.toBeNull());
    const failed = item.querySelector<HTMLButtonElement>('[data-photo-failed]')!;
    expect(failed.textContent).toBe('加载失败，点按重试');
    expect(failed.type).toBe('button');
    expect(item.querySelector('[data-photo-offline]')).toBeNull();
    expect(photoUrl).toHaveBeenCalledTimes(1);

    vi.mocked(photoUrl).mockResolvedValue('blob:hazard-photo');
    failed.click();
    await vi.waitFor(() => expect(item.querySelector<HTMLImageElement>(`img[data-photo="${PHOTO}"]`)?.getAttribute('src')).toBe('blob:hazard-photo'));
    expect(item.querySelector('[data-photo-failed]')).toBeNull();
    expect(photoUrl).toHaveBeenCalledTimes(2);
  });

  it('says so on the rectify screen too, in English', async () => {
    setLang('en');
    const { node } = rectifyView('S0001', HAZARD);
    document.body.append(node);
    await vi.waitFor(() => expect(node.querySelector('[data-hazard-photos] [data-photo-failed]')?.textContent).toBe("Couldn't load. Tap to retry"));
  });

  it('tries again by itself when the signal comes back after being lost, not before', async () => {
    const item = (await ownerHome()).querySelector(`[data-hazard="${HAZARD}"]`)!;
    await vi.waitFor(() => expect(item.querySelector('[data-photo-failed]')).not.toBeNull());
    updateSyncFacts({ pendingDocs: 1 }); // the sync goes on, online
    updateSyncFacts({ pendingDocs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(photoUrl).toHaveBeenCalledTimes(1);

    vi.mocked(photoUrl).mockResolvedValue('blob:hazard-photo');
    updateSyncFacts({ online: false });
    updateSyncFacts({ online: true });
    await vi.waitFor(() => expect(item.querySelector<HTMLImageElement>(`img[data-photo="${PHOTO}"]`)?.getAttribute('src')).toBe('blob:hazard-photo'));
    expect(photoUrl).toHaveBeenCalledTimes(2);
  });
});
