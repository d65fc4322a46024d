// @vitest-environment happy-dom
// After a self-check done offline, the owner's home agrees with itself before the upload: the card's 最近自查 is
// the day of the check on the phone (待上传), and what the owner reported (an expired extinguisher) is listed as
// a hazard to come, not 暂无待整改隐患.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fireGas from '../../server/models/data/template-fire-gas.json';

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
vi.mock('../src/session', async (actual) => ({
  ...(await actual<typeof import('../src/session')>()),
  currentSession: () => ({ token: 't', user: { id: 'owner:S0001', role: 'owner', shop: 'S0001' }, shop: 'S0001' }),
}));

import { setLang } from '../src/i18n';
import { mountOwnerHome } from '../src/owner';
import { matchRoute } from '../src/router';
import { newUlid, shanghaiDay, shanghaiIso } from '../src/ulid';
import { view } from '../src/views';

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

let card: Record<string, unknown>;

beforeEach(() => {
  fake.docs.clear();
  fake.unsent.clear();
  localStorage.clear();
  document.body.replaceChildren();
  fake.docs.set(fireGas._id, fireGas as unknown as Record<string, unknown>);
  // The card the server has: no self-check counted yet.
  card = { code: 'S0001', name: '小吃店S0001', address: '曙光北路1号', points: 90, rank: 2, of: 30, list: null, last_self_check: null, last_patrol: null };
  fake.docs.set('S0001:score', { _id: 'S0001:score', _rev: '1-a', points: 90, updated_at: shanghaiIso(NOW - 86_400_000) });
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify(card), { status: 200 }));
});

afterEach(() => {
  vi.unstubAllGlobals();
  setLang('zh-CN');
});

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
