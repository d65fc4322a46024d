// @vitest-environment happy-dom
// The owner's side: a rectification on the phone the server has not reflected yet, hazard labels and notes, a full
// phone while a photo is saved, and which score the card shows.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fireGas from '../../server/models/data/template-fire-gas.json';

// The local database, in memory: just the calls the owner's screens make.
const fake = vi.hoisted(() => {
  const docs = new Map<string, Record<string, unknown>>();
  const unsent = new Set<string>();
  const db = {
    async get(id: string) {
      const doc = docs.get(id);
      if (!doc) throw Object.assign(new Error('missing'), { status: 404 });
      return doc;
    },
    async allDocs(q: { startkey: string; endkey: string; descending?: boolean; limit?: number }) {
      const [lo, hi] = q.descending ? [q.endkey, q.startkey] : [q.startkey, q.endkey];
      let ids = [...docs.keys()].sort().filter((id) => id >= lo && id <= hi);
      if (q.descending) ids.reverse();
      if (q.limit) ids = ids.slice(0, q.limit);
      return { rows: ids.map((id) => ({ id, key: id, value: { rev: '1-a' }, doc: docs.get(id) })) };
    },
  };
  return { docs, unsent, db, redraw: null as null | (() => void) };
});

vi.mock('../src/db', () => ({
  localDb: () => fake.db,
  whileShown: (_node: unknown, onChange: () => void) => void (fake.redraw = onChange),
  uploadState: async (ids: string[]) => ({ unsent: new Set(ids.filter((id) => fake.unsent.has(id))), refused: new Set<string>() }),
}));
vi.mock('../src/session', () => ({
  currentSession: () => ({ token: 't', user: { id: 'owner:S0001', role: 'owner', shop: 'S0001' }, shop: 'S0001' }),
  signOut: async () => undefined,
}));
vi.mock('../src/events', async (actual) => ({
  ...(await actual<typeof import('../src/events')>()),
  savePhoto: vi.fn(),
  photoUrl: async () => null,
}));

import { chooseScore, type Card } from '../src/card';
import { buildChecklistForm, type Template } from '../src/checklist';
import { savePhoto } from '../src/events';
import { setLang } from '../src/i18n';
import type { TemplateItem } from '../src/items';
import { mountOwnerHome, rectifyView } from '../src/owner';
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

beforeEach(() => {
  fake.docs.clear();
  fake.unsent.clear();
  localStorage.clear();
  document.body.replaceChildren();
});

afterEach(() => setLang('zh-CN'));

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
    expect(hazardItemLabel(items, 'open_flame')).toBe('居住区域是否使用明火');
    expect(hazardItemLabel(items, 'no_such_item')).toBe('no_such_item');
    setLang('en');
    expect(hazardItemLabel(items, 'other')).toBe('Other problem');
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

  it('refuses a second rectification while one waits on the phone', async () => {
    fake.docs.set(HAZARD, hazard());
    fake.docs.set(RECT, rectification);
    fake.unsent.add(RECT);
    const page = await open();
    expect(page.querySelector('[data-form=rectification]')).toBeNull();
    expect(page.dataset.rectifyState).toBe('unsent');
    expect(page.querySelector('.notice')!.textContent).toContain('无需重复提交');
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
});
