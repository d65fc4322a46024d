// @vitest-environment happy-dom
// What an audit of an owner's month found: a fix sent in time shown as 已逾期, a failed verification (不通过)
// invisible, a passed one vanishing with its refund unexplained, a second self-check in a week not saying it earns
// nothing, no way forward after a forgotten PIN, and no way to see why the score is what it is (积分明细).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fireGas from '../../server/models/data/template-fire-gas.json';

import { fake, resetOwnerFakes } from './owner-fakes';

vi.mock('../src/db', async () => (await import('./owner-fakes')).ownerDb);
vi.mock('../src/session', async (actual) => ({
  ...(await actual<typeof import('../src/session')>()),
  ...(await import('./owner-fakes')).ownerSession,
}));

import type { Template } from '../src/checklist';
import { setLang } from '../src/i18n';
import type { TemplateItem } from '../src/items';
import { checkView, mountOwnerHome, rectifyView } from '../src/owner';
import {
  fixedDay,
  recentlyClosed,
  refundOf,
  rejectedFix,
  share,
  shownOverdue,
  type HazardStepLike,
  type VerificationLike,
} from '../src/owner-hazards';
import { LEDGER_PAGE, ledgerEntries, ledgerNewestFirst, ledgerWhat, signedPoints, type LedgerLike } from '../src/owner-ledger';
import { ApiError } from '../src/session';
import { OWNER_PULL_SELECTOR, PULL_SELECTOR, pullSelector } from '../src/sync-config';
import { addDays, newUlid, shanghaiDay, shanghaiIso } from '../src/ulid';
import { pinForgotten } from '../src/views';

const TODAY = shanghaiDay();
const DAY = 86_400_000;
const day = (n: number): string => addDays(TODAY, n);
const at = (n: number, hour = 10): string => `${day(n)}T${String(hour).padStart(2, '0')}:00:00+08:00`;

const HAZARD = 'S0001:hazard:01JE0000000000000000000000-f1';
const RECT = 'S0001:rectification:01JE1000000000000000000000';

function step(status: HazardStepLike['status'], when: string, event: string | null = null): HazardStepLike {
  return { status, at: when, event };
}

function hazard(extra: Record<string, unknown> = {}) {
  return {
    _id: HAZARD,
    type: 'hazard',
    shop: 'S0001',
    status: 'open' as 'open' | 'rectified' | 'closed' | 'overdue',
    item: 'extinguisher_valid',
    severity: 'general',
    self_reported: false,
    deadline: day(5),
    cost: 2,
    note: '',
    rectifications: [] as string[],
    closed_at: null as string | null,
    history: [step('open', at(-3), 'S0001:patrol:01JE0000000000000000000000')],
    ...extra,
  };
}

function verification(passed: boolean, when: string, extra: Partial<VerificationLike> = {}): VerificationLike & Record<string, unknown> {
  return {
    _id: `S0001:verification:${newUlid(Date.parse(when))}`,
    type: 'verification',
    shop: 'S0001',
    hazard: HAZARD,
    rectification: RECT,
    passed,
    note: passed ? '' : '灭火器仍是过期的',
    performed_at: when,
    ...extra,
  };
}

beforeEach(resetOwnerFakes);

afterEach(() => setLang('zh-CN'));

describe("overdue, on the owner's screen", () => {
  const late = hazard({ deadline: day(-2) });

  it('is not said of a fix sent in time that waits for the grid worker', () => {
    const rectified = { ...late, status: 'rectified' as const, history: [...late.history, step('rectified', at(-3, 18), RECT)] };
    expect(shownOverdue(rectified, 'rectified', TODAY)).toBe(false);
    // On the phone, not derived yet (the server may still say overdue): the fix's own time decides.
    expect(shownOverdue({ ...late, status: 'overdue' }, 'sent', TODAY, at(-3, 18))).toBe(false);
    expect(shownOverdue({ ...late, status: 'open' }, 'unsent', TODAY, at(-2, 23))).toBe(false);
  });

  it('is said of a fix that came after the deadline, and of a hazard nobody fixed', () => {
    const rectified = { ...late, status: 'rectified' as const, history: [...late.history, step('overdue', `${day(-1)}T00:00:00+08:00`), step('rectified', at(0, 8), RECT)] };
    expect(shownOverdue(rectified, 'rectified', TODAY)).toBe(true);
    expect(shownOverdue({ ...late, status: 'overdue' }, 'unsent', TODAY, at(0, 8))).toBe(true);
    expect(shownOverdue({ ...late, status: 'overdue' }, 'fix', TODAY)).toBe(true);
    expect(shownOverdue({ ...late, status: 'open' }, 'fix', TODAY)).toBe(true); // the server has not marked it yet
    expect(shownOverdue(hazard(), 'fix', TODAY)).toBe(false);
    expect(shownOverdue({ ...late, status: 'closed' }, 'closed', TODAY)).toBe(false);
  });
});

describe('a fix the grid worker did not pass (不通过)', () => {
  it('is the latest verdict on the hazard while there is no later fix', () => {
    const failed = verification(false, at(-1));
    expect(rejectedFix(hazard(), 'fix', [failed])).toBe(failed);
    // A later fix (on the phone or at the server) answers it.
    for (const state of ['unsent', 'sent', 'rectified', 'closed'] as const) expect(rejectedFix(hazard(), state, [failed])).toBeNull();
    // Failed, fixed again, passed: nothing to say (the latest verdict passed).
    expect(rejectedFix(hazard(), 'fix', [failed, verification(true, at(0, 9))])).toBeNull();
    // Failed twice: the latest reason.
    const again = verification(false, at(0, 9), { note: '通道仍被堵塞' });
    expect(rejectedFix(hazard(), 'fix', [again, failed])).toBe(again);
    // Another hazard's verdict is not this one's.
    expect(rejectedFix(hazard(), 'fix', [verification(false, at(-1), { hazard: 'S0001:hazard:01JE9-f2' })])).toBeNull();
  });

  it("counts a verdict on a finding the server merged into the hazard (one of its aliases)", () => {
    const merged = 'S0001:hazard:01JE5000000000000000000000-f1';
    const failed = verification(false, at(-1), { hazard: merged });
    expect(rejectedFix(hazard({ aliases: [merged] }), 'fix', [failed])).toBe(failed);
    expect(rejectedFix(hazard(), 'fix', [failed])).toBeNull();
  });
});

describe('a verified hazard (已通过核查)', () => {
  const closedInTime = hazard({
    status: 'closed',
    cost: 5,
    deadline: day(-1),
    closed_at: at(-1, 16),
    history: [step('open', at(-5), 'p'), step('rectified', at(-2), RECT), step('closed', at(-1, 16), 'v')],
  });

  it('is listed for 14 days after it closed, the latest first', () => {
    const older = { ...closedInTime, _id: 'S0001:hazard:old-f', closed_at: at(-10) };
    const gone = { ...closedInTime, _id: 'S0001:hazard:gone-f', closed_at: at(-15) };
    const open = hazard();
    expect(recentlyClosed([older, gone, open, closedInTime], TODAY).map((hz) => hz._id)).toEqual([HAZARD, older._id]);
  });

  it('gave half its cost back when fixed in time, nothing when late', () => {
    expect(fixedDay(closedInTime)).toBe(day(-2));
    expect(refundOf(closedInTime)).toEqual({ inTime: true, points: 3 }); // 2.5 rounds away from zero, as the server
    expect(refundOf(closedInTime, 50, 2)).toEqual({ inTime: true, points: 2 }); // the server's ledger entry wins
    const late = { ...closedInTime, history: [step('open', at(-5), 'p'), step('overdue', at(0, 0)), step('rectified', at(0, 8), RECT), step('closed', at(0, 16), 'v')] };
    expect(refundOf(late)).toEqual({ inTime: false, points: 0 });
    // A failed verification in between: the fix that passed is the later one.
    const twice = { ...closedInTime, history: [step('open', at(-5), 'p'), step('rectified', at(-4), 'r1'), step('open', at(-3), 'v1'), step('rectified', at(0, 8), 'r2'), step('closed', at(0, 16), 'v2')] };
    expect(fixedDay(twice)).toBe(TODAY);
    // Fixed on the spot: the verification itself.
    expect(fixedDay({ history: [step('open', at(-5), 'p'), step('closed', at(-1), 'v')] })).toBe(day(-1));
    expect(share(2, 50)).toBe(1);
    expect(share(5, 50)).toBe(3);
    expect(share(-5, 50)).toBe(-3);
  });
});

describe('积分明细', () => {
  const items = new Map<string, TemplateItem>((fireGas as unknown as Template).items.map((i) => [i.id, i]));
  const hazards = new Map([
    [HAZARD, { item: 'extinguisher_valid', self_reported: false }],
    ['S0001:hazard:01JE2000000000000000000000-gas_safe', { item: 'gas_safe', self_reported: true }],
  ]);
  const entry = (id: string, rule: string, points: number, source: string, d = '2026-11-02', note = ''): LedgerLike => ({
    _id: `S0001:ledger:${id}:${rule}`,
    rule,
    points,
    source,
    day: d,
    note,
  });

  it('says what each entry was for, in plain words', () => {
    expect(ledgerWhat(entry('2026', 'start', 100, '2026'), hazards, items)).toBe('年度基础分');
    expect(ledgerWhat(entry('01JE3', 'self_check', 2, 'S0001:self_check:01JE3'), hazards, items)).toBe('每周自查');
    // The week by its days, Monday to Sunday: an owner does not count ISO weeks (the audit's owner read 第 47 周).
    expect(ledgerWhat(entry('2026-W45', 'missed_week', -1, '2026-W45'), hazards, items)).toBe('漏做自查：2026-11-02 至 2026-11-08 这一周');
    expect(ledgerWhat(entry('2026-W53', 'missed_week', -1, '2026-W53'), hazards, items)).toBe('漏做自查：2026-12-28 至 2027-01-03 这一周');
    expect(ledgerWhat(entry('2027-W01', 'missed_week', -1, '2027-W01'), hazards, items)).toBe('漏做自查：2027-01-04 至 2027-01-10 这一周');
    // A clean patrol found nothing new: the hazards still open above it were found before.
    expect(ledgerWhat(entry('01JE4', 'patrol_clean', 5, 'S0001:patrol:01JE4'), hazards, items)).toBe('网格员巡查未发现新隐患');
    expect(ledgerWhat(entry('01JE0-f1', 'hazard', -2, HAZARD, '2026-11-02', 'extinguisher_valid'), hazards, items)).toBe(
      '发现隐患：灭火器是否在有效期内：否',
    );
    const self = 'S0001:hazard:01JE2000000000000000000000-gas_safe';
    expect(ledgerWhat(entry('01JE2-gas_safe', 'hazard', -1, self, '2026-11-02', 'gas_safe'), hazards, items)).toMatch(/^自查发现隐患（扣分减半）：/);
    expect(ledgerWhat(entry('01JE0-f1', 'false_self_report', -3, HAZARD, '2026-11-02', 'extinguisher_valid'), hazards, items)).toMatch(/^自查未如实填报：灭火器/);
    expect(ledgerWhat(entry('01JE0-f1.w2', 'overdue', -2, HAZARD), hazards, items)).toMatch(/^逾期未整改（第 2 周）：灭火器/);
    expect(ledgerWhat(entry('01JE0-f1', 'refund', 1, HAZARD, '2026-11-02', 'S0001:verification:01JE5'), hazards, items)).toMatch(/^按期整改，返还扣分：灭火器/);
    setLang('en');
    expect(ledgerWhat(entry('2026-W45', 'missed_week', -1, '2026-W45'), hazards, items)).toBe('No self-check in the week 2026-11-02 to 2026-11-08');
    expect(ledgerWhat(entry('01JE4', 'patrol_clean', 5, 'S0001:patrol:01JE4'), hazards, items)).toBe('Grid worker patrol found no new hazard');
    expect(ledgerWhat(entry('01JE0-f1', 'refund', 1, HAZARD), hazards, items)).toMatch(/^Fixed in time, points back: /);
    expect(signedPoints(2)).toBe('+2');
    expect(signedPoints(-3)).toBe('-3');
  });

  it("reads the server's month documents as their entries, and an entry a document as before", () => {
    const month = {
      _id: 'S0001:ledger:2026-11',
      shop: 'S0001',
      entries: [
        { key: '01JE0-f1', rule: 'hazard', points: -2, source: HAZARD, day: '2026-11-02', note: 'extinguisher_valid' },
        { key: '01JE0-f1.w2', rule: 'overdue', points: -2, source: HAZARD, day: '2026-11-16', note: '' },
      ],
    };
    const older = entry('2026', 'start', 100, '2026', '2026-01-01');
    const found = ledgerEntries([older, month]);
    expect(found.map((e) => e._id)).toEqual(['S0001:ledger:2026:start', 'S0001:ledger:01JE0-f1:hazard', 'S0001:ledger:01JE0-f1.w2:overdue']);
    expect(found[1]).toEqual({ _id: 'S0001:ledger:01JE0-f1:hazard', rule: 'hazard', points: -2, source: HAZARD, day: '2026-11-02', note: 'extinguisher_valid' });
    expect(ledgerWhat(found[2]!, hazards, items)).toMatch(/^逾期未整改（第 2 周）：灭火器/); // the week from the entry's name
  });

  it('lists the newest first', () => {
    const list = [entry('a', 'self_check', 2, 'x', '2026-11-02'), entry('b', 'self_check', 2, 'y', '2026-11-09'), entry('2026', 'start', 100, '2026', '2026-01-01')];
    expect(ledgerNewestFirst(list).map((e) => e.day)).toEqual(['2026-11-09', '2026-11-02', '2026-01-01']);
  });

  it("lists one day's entries newest first, by when each took effect, whatever their ids", () => {
    const ulid = (hhmm: string, d = '2026-11-09'): string => newUlid(Date.parse(`${d}T${hhmm}:00+08:00`));
    const [check, patrol, verified, found] = [ulid('09:00'), ulid('11:00'), ulid('15:00'), ulid('10:00', '2026-11-05')];
    const d = '2026-11-09';
    const list = [
      entry(`${check}-gas_safe`, 'hazard', -5, `S0001:hazard:${check}-gas_safe`, d, 'gas_safe'),
      entry('2026-W45', 'missed_week', -1, '2026-W45', d), // charged at 00:00: the day's first, though its id sorts last
      entry(check, 'self_check', 2, `S0001:self_check:${check}`, d),
      // A refund is keyed by its hazard (found days before) and takes effect when the verification was made.
      entry(`${found}-f1`, 'refund', 1, `S0001:hazard:${found}-f1`, d, `S0001:verification:${verified}`),
      entry(`${found}-f2.w1`, 'overdue', -2, `S0001:hazard:${found}-f2`, d), // a week overdue: from 00:00 too
      entry(patrol, 'patrol_clean', 5, `S0001:patrol:${patrol}`, d),
    ];
    const expected = ['refund', 'patrol_clean', 'self_check', 'hazard', 'missed_week', 'overdue'];
    expect(ledgerNewestFirst(list).map((e) => e.rule)).toEqual(expected);
    expect(ledgerNewestFirst([...list].reverse()).map((e) => e.rule)).toEqual(expected); // the same whatever came first
  });
});

describe("the owner's pull", () => {
  it('brings the points ledger to an owner (one shop), not to a grid worker (dozens)', () => {
    expect(pullSelector('owner:S0001')).toBe(OWNER_PULL_SELECTOR);
    expect(pullSelector('grid:zhou')).toBe(PULL_SELECTOR);
    expect(pullSelector('')).toBe(PULL_SELECTOR);
    expect(JSON.stringify(PULL_SELECTOR)).toContain('"ledger"');
    expect(JSON.stringify(OWNER_PULL_SELECTOR)).not.toContain('ledger');
    expect(JSON.stringify(OWNER_PULL_SELECTOR)).toContain('"photo"');
  });
});

describe('a forgotten PIN', () => {
  it('leads to a new activation code after a wrong PIN or a lockout, not after other failures', () => {
    expect(pinForgotten(new ApiError(401, 'unauthorized', 'Wrong shop code or PIN.'))).toBe(true);
    expect(pinForgotten(new ApiError(429, 'too_many_requests', 'Too many attempts: retry in 600 s.'))).toBe(true);
    expect(pinForgotten(new ApiError(403, 'forbidden', '本店已停业，账号已停用'))).toBe(false);
    expect(pinForgotten(new Error('offline'))).toBe(false);
  });
});

// The home and the forms as the owner sees them.
async function ownerHome(): Promise<HTMLElement> {
  const into = document.createElement('div');
  document.body.append(into);
  mountOwnerHome('S0001', into);
  await vi.waitFor(() => expect(into.querySelector('[data-week-done]')).not.toBeNull());
  return into;
}

describe("the owner's home", () => {
  beforeEach(() => fake.docs.set(fireGas._id, fireGas as unknown as Record<string, unknown>));

  it('shows a fix sent in time, past its deadline, as waiting for the grid worker, not 已逾期', async () => {
    fake.docs.set(HAZARD, hazard({ status: 'rectified', deadline: day(-2), rectifications: [RECT], history: [step('open', at(-5), 'p'), step('rectified', at(-3), RECT)] }));
    const item = (await ownerHome()).querySelector<HTMLElement>(`[data-hazard="${HAZARD}"]`)!;
    expect(item.dataset.overdue).toBe('false');
    expect(item.textContent).not.toContain('已逾期');
    expect(item.textContent).toContain('等待网格员核查');
  });

  it("shows a failed verification with the worker's note until the owner fixes it again", async () => {
    fake.docs.set(HAZARD, hazard({ rectifications: [RECT], history: [step('open', at(-5), 'p'), step('rectified', at(-3), RECT), step('open', at(-1), 'v')] }));
    const failed = verification(false, at(-1));
    fake.docs.set(failed._id, failed);
    let item = (await ownerHome()).querySelector<HTMLElement>(`[data-hazard="${HAZARD}"]`)!;
    expect(item.querySelector('[data-rejected]')!.textContent).toContain('整改未通过');
    expect(item.querySelector('[data-rejected-note]')!.textContent).toBe('网格员意见：灭火器仍是过期的');
    expect(item.textContent).toContain('请重新整改');
    expect(item.querySelector('a[data-action=rectify]')).not.toBeNull();
    // The owner fixes it again (on the phone, not uploaded yet): the refusal is answered.
    const again = { _id: 'S0001:rectification:01JE9000000000000000000000', type: 'rectification', shop: 'S0001', hazard: HAZARD, performed_at: at(0, 8) };
    fake.docs.set(again._id, again);
    fake.unsent.add(again._id);
    document.body.replaceChildren();
    item = (await ownerHome()).querySelector<HTMLElement>(`[data-hazard="${HAZARD}"]`)!;
    expect(item.dataset.shown).toBe('unsent');
    expect(item.querySelector('[data-rejected]')).toBeNull();
  });

  it('says so on the rectify screen too', async () => {
    fake.docs.set(HAZARD, hazard({ rectifications: [RECT] }));
    const failed = verification(false, at(-1));
    fake.docs.set(failed._id, failed);
    const { node } = rectifyView('S0001', HAZARD);
    document.body.append(node);
    await vi.waitFor(() => expect(node.querySelector('[data-form=rectification]')).not.toBeNull());
    expect(node.querySelector('[data-rejected-note]')!.textContent).toContain('灭火器仍是过期的');
  });

  it('lists hazards verified in the last 14 days, with the points a fix in time gave back', async () => {
    fake.docs.set(HAZARD, hazard({ status: 'closed', cost: 2, deadline: day(-1), closed_at: at(-1, 16), history: [step('open', at(-5), 'p'), step('rectified', at(-2), RECT), step('closed', at(-1, 16), 'v')] }));
    const home = await ownerHome();
    const item = home.querySelector<HTMLElement>(`[data-verified-list] [data-closed-hazard="${HAZARD}"]`)!;
    expect(home.querySelector('[data-verified-list] h2')!.textContent).toBe('已通过核查');
    expect(item.dataset.refund).toBe('1');
    expect(item.textContent).toContain('按期整改，返还 1 分（发现时扣 2 分）');
    expect(home.querySelector(`[data-hazard="${HAZARD}"]`)).toBeNull(); // not among the hazards to fix
    setLang('en');
    document.body.replaceChildren();
    expect((await ownerHome()).querySelector('[data-closed-hazard]')!.textContent).toContain('Fixed in time: 1 point back (it cost 2)');
  });

  it('says a second self-check this week earns no points, on the home and on the form', async () => {
    const id = `S0001:self_check:${newUlid(Date.now() - 60_000)}`;
    fake.docs.set(id, { _id: id, type: 'self_check', shop: 'S0001', performed_at: shanghaiIso(Date.now() - 60_000), answers: {} });
    const home = await ownerHome();
    expect(home.querySelector('[data-week-done]')!.getAttribute('data-week-done')).toBe('true');
    expect(home.querySelector('[data-week-points]')!.textContent).toContain('每周只计一次');
    const { node } = checkView('S0001');
    document.body.append(node);
    await vi.waitFor(() => expect(node.querySelector('[data-week-points]')).not.toBeNull());
    expect(node.querySelector('[data-week-points]')!.textContent).toContain('再次自查不再加分');
  });

  it("does not say the week's points are earned while the week's self-check waits to upload", async () => {
    // The audit's owner checked offline and read 本周的自查积分已经得到 above a score that had not moved.
    const id = `S0001:self_check:${newUlid(Date.now() - 60_000)}`;
    fake.docs.set(id, { _id: id, type: 'self_check', shop: 'S0001', performed_at: shanghaiIso(Date.now() - 60_000), answers: {} });
    fake.unsent.add(id);
    const line = (await ownerHome()).querySelector('[data-week-points]')!;
    expect(line.getAttribute('data-week-points')).toBe('pending');
    expect(line.textContent).toBe('本周的自查积分在自查上传后计入（每周只计一次），再次自查不再加分；但发现的问题照样记录，需要整改。');
    const { node } = checkView('S0001');
    document.body.append(node);
    await vi.waitFor(() => expect(node.querySelector('[data-week-points]')).not.toBeNull());
    expect(node.querySelector('[data-week-points]')!.textContent).toContain('上传后计入');
    expect(node.textContent).not.toContain('已经得到');
    // Uploaded: earned.
    fake.unsent.delete(id);
    document.body.replaceChildren();
    expect((await ownerHome()).querySelector('[data-week-points]')!.getAttribute('data-week-points')).toBe('earned');
  });

  it('says nothing of it on the first self-check of the week', async () => {
    const id = `S0001:self_check:${newUlid(Date.now() - 8 * DAY)}`;
    fake.docs.set(id, { _id: id, type: 'self_check', shop: 'S0001', answers: {} });
    expect((await ownerHome()).querySelector('[data-week-points]')).toBeNull();
    const { node } = checkView('S0001');
    document.body.append(node);
    await vi.waitFor(() => expect(node.querySelector('[data-form=self-check]')).not.toBeNull());
    expect(node.querySelector('[data-week-points]')).toBeNull();
  });

  it('shows the points ledger newest first, a page at a time', async () => {
    for (let n = 0; n < LEDGER_PAGE + 5; n++) {
      const d = day(-n);
      const key = `2026${String(n).padStart(3, '0')}`;
      fake.docs.set(`S0001:ledger:${key}:self_check`, { _id: `S0001:ledger:${key}:self_check`, type: 'ledger', rule: 'self_check', points: 2, source: `S0001:self_check:${key}`, day: d });
    }
    const home = await ownerHome();
    const rows = () => [...home.querySelectorAll<HTMLElement>('[data-ledger-entry]')];
    expect(rows()).toHaveLength(LEDGER_PAGE);
    expect(rows()[0]!.textContent).toBe(`${TODAY}每周自查+2`);
    home.querySelector<HTMLButtonElement>('[data-action=ledger-more]')!.click();
    await vi.waitFor(() => expect(rows()).toHaveLength(LEDGER_PAGE + 5));
    expect(home.querySelector('[data-action=ledger-more]')).toBeNull();
  });
});
