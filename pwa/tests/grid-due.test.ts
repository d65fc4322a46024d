import { describe, expect, it } from 'vitest';
import type { AlarmDoc, Doc, HazardDoc, PatrolDoc, SelfCheckDoc, ShopDoc } from '../src/grid/docs';
import { allHazards, dayOf, dueAt, withoutRefused, dueList, filterDues, groupByShop, isNews, pendingVerdict, photosToKeep, isOverdue, monthProgress, RECENT_MS, weekOfDay } from '../src/grid/due';
import { monthBefore } from '../src/ulid';
import { matchGridRoute } from '../src/grid/routes';
import { shop } from './grid-fixtures';

// Saturday 2026-11-28, 10:00 in Shanghai (02:00 UTC): ISO week 2026-W48, month 2026-11.
const NOW = new Date('2026-11-28T02:00:00Z');

function event<T extends Doc>(code: string, type: string, at: string, n = 0, extra: object = {}): T {
  return {
    _id: `${code}:${type}:01M7YN07V8XQJ7JEF02Y1DNS${String(n).padStart(2, '0')}`,
    type,
    shop: code,
    performed_at: at,
    created_by: 'grid:zhou01',
    device: 'd-1',
    ...extra,
  } as unknown as T;
}

function hazard(code: string, key: string, status: HazardDoc['status'], deadline: string): HazardDoc {
  return {
    _id: `${code}:hazard:${key}`,
    type: 'hazard',
    shop: code,
    status,
    source: `${code}:patrol:01M7YN07V8XQJ7JEF02Y1DNSR6`,
    item: 'extinguisher_valid',
    severity: 'general',
    self_reported: false,
    found_at: '2026-11-01T10:00:00+08:00',
    deadline,
    cost: 2,
  };
}

function alarm(code: string, status: AlarmDoc['status']): AlarmDoc {
  return {
    _id: `${code}:alarm:01M7YN07V8XQJ7JEF02Y1DNSR6`,
    type: 'alarm',
    shop: code,
    status,
    source: `${code}:patrol:01M7YN07V8XQJ7JEF02Y1DNSR6`,
    items: [],
    cost: 10,
    created_at: '2026-11-20T10:00:00+08:00',
  };
}

describe('Shanghai days and weeks', () => {
  it('counts an event by its Shanghai day, not UTC', () => {
    expect(dayOf('2026-11-30T23:30:00+08:00')).toBe('2026-11-30');
    expect(dayOf('2026-11-30T17:30:00Z')).toBe('2026-12-01'); // 01:30 the next morning in Shanghai
  });

  it('uses ISO weeks, Monday to Sunday, across New Year', () => {
    expect(weekOfDay('2026-11-23')).toBe('2026-W48'); // Monday
    expect(weekOfDay('2026-11-29')).toBe('2026-W48'); // Sunday
    expect(weekOfDay('2026-11-30')).toBe('2026-W49');
    expect(weekOfDay('2027-01-01')).toBe('2026-W53'); // a Friday: still the last week of 2026
    expect(weekOfDay('2025-12-29')).toBe('2026-W01');
  });
});

describe('what is due at a shop', () => {
  it('a shop with nothing this month owes a patrol and this week a self-check', () => {
    const files = groupByShop([shop('S0001'), event<PatrolDoc>('S0001', 'patrol', '2026-10-30T10:00:00+08:00')]);
    const due = dueAt(files.get('S0001')!, NOW);
    expect(due.patrolDue).toBe(true);
    expect(due.selfCheckMissing).toBe(true);
    expect(due.lastPatrol).toBe('2026-10-30T10:00:00+08:00');
  });

  it('a patrol this month and a self-check this week clear both', () => {
    const files = groupByShop([
      shop('S0001'),
      event<PatrolDoc>('S0001', 'patrol', '2026-11-01T00:10:00+08:00'),
      event<SelfCheckDoc>('S0001', 'self_check', '2026-11-23T08:00:00+08:00'),
    ]);
    const due = dueAt(files.get('S0001')!, NOW);
    expect(due.patrolDue).toBe(false);
    expect(due.selfCheckMissing).toBe(false);
  });

  it('last Sunday’s self-check does not count for this week', () => {
    const files = groupByShop([shop('S0001'), event<SelfCheckDoc>('S0001', 'self_check', '2026-11-22T20:00:00+08:00')]);
    expect(dueAt(files.get('S0001')!, NOW).selfCheckMissing).toBe(true);
  });

  it('counts open, overdue and to-verify hazards and open alarms; closed ones do not count', () => {
    const files = groupByShop([
      shop('S0001'),
      hazard('S0001', 'A-1', 'open', '2026-11-30'),
      hazard('S0001', 'A-2', 'open', '2026-11-27'), // deadline passed: overdue even before the server says so
      hazard('S0001', 'A-3', 'overdue', '2026-11-20'),
      hazard('S0001', 'A-4', 'rectified', '2026-11-20'),
      hazard('S0001', 'A-5', 'closed', '2026-11-20'),
      alarm('S0001', 'dispatched'),
    ]);
    const due = dueAt(files.get('S0001')!, NOW);
    expect(due.openHazards).toBe(4);
    expect(due.overdueHazards).toBe(2);
    expect(due.toVerify).toBe(1);
    expect(due.openAlarms).toBe(1);
  });

  it('a rectified hazard past its deadline waits for verification, it is not overdue', () => {
    expect(isOverdue(hazard('S1', 'A-1', 'rectified', '2026-11-01'), '2026-11-28')).toBe(false);
    expect(isOverdue(hazard('S1', 'A-1', 'open', '2026-11-28'), '2026-11-28')).toBe(false); // the deadline day is still in time
    expect(isOverdue(hazard('S1', 'A-1', 'open', '2026-11-27'), '2026-11-28')).toBe(true);
  });

  it('a finding of a patrol not yet back from the server counts at once, provisionally', () => {
    const patrol = event<PatrolDoc>('S0001', 'patrol', '2026-11-28T09:00:00+08:00', 7, {
      findings: [
        { id: 'open_flame', item: 'open_flame', severity: 'serious', deadline: '2026-11-29' },
        { id: 'wiring_ok', item: 'wiring_ok', severity: 'general', deadline: '2026-12-05' },
      ],
    });
    const ulid = patrol._id.split(':')[2];
    const projected = { ...hazard('S0001', `${ulid}-wiring_ok`, 'open', '2026-12-05'), item: 'wiring_ok' };
    const file = groupByShop([shop('S0001'), patrol, projected]).get('S0001')!;
    const hazards = allHazards(file);
    expect(hazards.map((h) => [h._id, h.provisional ?? false])).toEqual([
      [`S0001:hazard:${ulid}-open_flame`, true],
      [`S0001:hazard:${ulid}-wiring_ok`, false],
    ]);
    expect(hazards[0]).toMatchObject({ status: 'open', severity: 'serious', deadline: '2026-11-29', source: patrol._id });
    expect(dueAt(file, NOW).openHazards).toBe(2);
  });

  it('a finding on an item whose earlier hazard was not closed by then is that hazard, not a provisional one', () => {
    // The server merged it (the owner's older self-check, declaring the item, arrived after the patrol) and deleted
    // the finding's own hazard: the phone must not bring it back as provisional.
    const patrol = event<PatrolDoc>('S0001', 'patrol', '2026-11-28T09:00:00+08:00', 7, {
      findings: [
        { id: 'open_flame', item: 'open_flame', severity: 'serious', deadline: '2026-11-29' },
        { id: 'other-1', item: 'other', severity: 'general', deadline: '2026-12-05' },
      ],
    });
    const declared = (status: HazardDoc['status'], closed_at: string | null = null): HazardDoc => ({
      ...hazard('S0001', '01M7YN07V8XQJ7JEF02Y1DNS01-open_flame', status, '2026-11-29'),
      item: 'open_flame',
      found_at: '2026-11-28T07:00:00+08:00',
      closed_at,
    });
    const ulid = patrol._id.split(':')[2];
    const provisional = (merged: HazardDoc): string[] =>
      allHazards(groupByShop([shop('S0001'), patrol, merged]).get('S0001')!).flatMap((h) => (h.provisional ? [h._id] : []));
    expect(provisional(declared('open'))).toEqual([`S0001:hazard:${ulid}-other-1`]); // a problem of no item is new
    expect(provisional(declared('rectified'))).toEqual([`S0001:hazard:${ulid}-other-1`]);
    expect(provisional(declared('closed', '2026-11-28T10:00:00+08:00'))).toEqual([`S0001:hazard:${ulid}-other-1`]);
    // Closed before the patrol: the patrol found it anew.
    expect(provisional(declared('closed', '2026-11-28T08:00:00+08:00'))).toEqual([
      `S0001:hazard:${ulid}-open_flame`,
      `S0001:hazard:${ulid}-other-1`,
    ]);
  });

  it('a patrol the server refused is no visit and finds no hazard', () => {
    const patrol = event<PatrolDoc>('S0001', 'patrol', '2026-11-28T09:00:00+08:00', 7, {
      findings: [{ id: 'open_flame', item: 'open_flame', severity: 'serious', deadline: '2026-11-29' }],
    });
    const file = groupByShop([shop('S0001'), patrol]).get('S0001')!;
    expect(dueAt(file, NOW).patrolDue).toBe(false);
    const counted = withoutRefused(file, new Set([patrol._id]));
    expect(dueAt(counted, NOW).patrolDue).toBe(true);
    expect(allHazards(counted)).toEqual([]);
    expect(file.patrols).toHaveLength(1); // the phone keeps it
    // Another shop's refusal leaves this file as it is (the same object: what is due there is not worked out again).
    expect(withoutRefused(file, new Set(['S0002:patrol:x']))).toBe(file);
  });

  it('documents of shops without a shop document are ignored', () => {
    const files = groupByShop([shop('S0001'), hazard('S0009', 'A-1', 'open', '2026-11-30')]);
    expect([...files.keys()]).toEqual(['S0001']);
  });
});

describe('the most urgent shop first', () => {
  const docs: Doc[] = [
    shop('S0001'), // owes patrol and self-check only
    shop('S0002'),
    alarm('S0002', 'open'),
    shop('S0003'),
    hazard('S0003', 'A-1', 'open', '2026-11-01'), // overdue
    event<PatrolDoc>('S0003', 'patrol', '2026-11-05T10:00:00+08:00'),
    shop('S0004'),
    event<PatrolDoc>('S0004', 'patrol', '2026-11-05T10:00:00+08:00'),
    event<SelfCheckDoc>('S0004', 'self_check', '2026-11-24T10:00:00+08:00'),
    shop('S0005', { status: 'closed' }),
    shop('S0006'),
    hazard('S0006', 'A-1', 'rectified', '2026-11-30'), // a fix waiting for the worker
    event<PatrolDoc>('S0006', 'patrol', '2026-11-05T10:00:00+08:00'),
  ];

  it('alarm, overdue hazard, fix to verify, patrol due, nothing due, closed', () => {
    const order = dueList(groupByShop(docs).values(), NOW).map((d) => d.code);
    expect(order).toEqual(['S0002', 'S0003', 'S0006', 'S0001', 'S0004', 'S0005']);
  });

  it('equal urgency: the lower score first, then the code', () => {
    const score = (code: string, points: number): Doc =>
      ({ _id: `${code}:score`, type: 'score', shop: code, points, open_hazards: 0 }) as Doc;
    const order = dueList(
      groupByShop([shop('S0010'), shop('S0011'), shop('S0012'), score('S0011', 80), score('S0012', 95)]).values(),
      NOW,
    ).map((d) => d.code);
    expect(order).toEqual(['S0011', 'S0012', 'S0010']);
  });

  it('the search matches code, name or address, every word', () => {
    const files = groupByShop(docs);
    expect(dueList(files.values(), NOW, 's0003').map((d) => d.code)).toEqual(['S0003']);
    expect(dueList(files.values(), NOW, '店S0004').map((d) => d.code)).toEqual(['S0004']);
    expect(dueList(files.values(), NOW, '划船巷 0006').map((d) => d.code)).toEqual(['S0006']);
    expect(dueList(files.values(), NOW, '没有这家')).toEqual([]);
    expect(dueList(files.values(), NOW, '  ')).toHaveLength(6);
  });

  it('filters the shops still to patrol, or with hazards or alarms; closed shops only under all', () => {
    const all = dueList(groupByShop(docs).values(), NOW);
    expect(filterDues(all, 'patrol').map((d) => d.code)).toEqual(['S0002', 'S0001']);
    expect(filterDues(all, 'problems').map((d) => d.code)).toEqual(['S0002', 'S0003', 'S0006']);
    expect(filterDues(all, 'all')).toHaveLength(6);
  });

  it('keeps the photos of the latest self-check of each module at the shops still to patrol', () => {
    const check = (code: string, n: number, at: string, template: string, photo: string): SelfCheckDoc =>
      event<SelfCheckDoc>(code, 'self_check', at, n, { template, answers: { gas_safe: { value: true, photos: [photo] } } });
    const files = groupByShop([
      shop('S0001'),
      check('S0001', 1, '2026-11-20T09:00:00+08:00', 'district:template:fire-gas', 'S0001:photo:OLD'),
      check('S0001', 2, '2026-11-24T09:00:00+08:00', 'district:template:fire-gas', 'S0001:photo:NEW'),
      check('S0001', 3, '2026-11-10T09:00:00+08:00', 'district:template:food-safety', 'S0001:photo:FOOD'),
      shop('S0002'), // patrolled this month: nothing to keep
      event<PatrolDoc>('S0002', 'patrol', '2026-11-05T10:00:00+08:00'),
      check('S0002', 4, '2026-11-24T09:00:00+08:00', 'district:template:fire-gas', 'S0002:photo:X'),
    ]);
    expect(photosToKeep(files.values(), NOW)).toEqual(['S0001:photo:NEW', 'S0001:photo:FOOD']);
  });

  it('keeps the photos of a fix to verify, at a shop patrolled this month too, until this phone gave its verdict', () => {
    // Offline, the verification showed empty frames where the hazard's and the owner's fix photos belong.
    const fixed = { ...hazard('S0003', 'h1', 'rectified', '2026-11-30'), photos: ['S0003:photo:FOUND'] };
    const fixOf = (n: number, at: string, photo: string): Doc =>
      event<Doc>('S0003', 'rectification', at, n, { hazard: fixed._id, photos: [photo] });
    const docs: Doc[] = [
      shop('S0003'),
      event<PatrolDoc>('S0003', 'patrol', '2026-11-05T10:00:00+08:00'),
      fixed,
      fixOf(1, '2026-11-20T10:00:00+08:00', 'S0003:photo:FIRST-FIX'),
      fixOf(2, '2026-11-26T10:00:00+08:00', 'S0003:photo:FIX'),
    ];
    expect(photosToKeep(groupByShop(docs).values(), NOW)).toEqual(['S0003:photo:FOUND', 'S0003:photo:FIX']);
    const verdict = event<Doc>('S0003', 'verification', '2026-11-28T09:00:00+08:00', 3, { hazard: fixed._id, passed: true });
    expect(photosToKeep(groupByShop([...docs, verdict]).values(), NOW)).toEqual([]);
  });

  it('counts this month’s patrols over the active shops', () => {
    expect(monthProgress(dueList(groupByShop(docs).values(), NOW))).toEqual({ done: 3, total: 5 });
  });
});

describe('a patrol missed last month (逾期未巡查, as the office counts it)', () => {
  // The office's workers screen: no patrol since the start of last month (server/office/shops.py `workers`).
  const FIRST = new Date('2026-12-01T02:00:00Z'); // Tuesday 1 December, 10:00 in Shanghai
  const MID = new Date('2026-12-15T02:00:00Z');
  const docs: Doc[] = [
    shop('S0001'), // patrolled yesterday
    event<PatrolDoc>('S0001', 'patrol', '2026-11-30T16:00:00+08:00'),
    shop('S0002'), // last patrolled on 1 October: missed all of November
    event<PatrolDoc>('S0002', 'patrol', '2026-10-01T10:00:00+08:00'),
    shop('S0003'), // never patrolled
    shop('S0004'), // patrolled this month
    event<PatrolDoc>('S0004', 'patrol', '2026-12-01T08:00:00+08:00'),
  ];
  const dues = (now: Date) => new Map(dueList(groupByShop(docs).values(), now).map((d) => [d.code, d]));

  it('on the 1st: the shop patrolled yesterday owes this month only; the others missed November', () => {
    const due = dues(FIRST);
    expect(due.get('S0001')).toMatchObject({ patrolDue: true, patrolOverdue: false });
    expect(due.get('S0002')).toMatchObject({ patrolDue: true, patrolOverdue: true, lastPatrol: '2026-10-01T10:00:00+08:00' });
    expect(due.get('S0003')).toMatchObject({ patrolDue: true, patrolOverdue: true, lastPatrol: null });
    expect(due.get('S0004')).toMatchObject({ patrolDue: false, patrolOverdue: false });
  });

  it('mid-month: the same', () => {
    const due = dues(MID);
    expect(due.get('S0001')).toMatchObject({ patrolDue: true, patrolOverdue: false });
    expect(due.get('S0002')).toMatchObject({ patrolDue: true, patrolOverdue: true });
    expect(due.get('S0003')).toMatchObject({ patrolDue: true, patrolOverdue: true });
    expect(due.get('S0004')).toMatchObject({ patrolDue: false, patrolOverdue: false });
  });

  it('a shop registered this month missed none; one registered last month and never patrolled did', () => {
    const opened = (day: string) => dueList(groupByShop([shop('S0005', { opened: day })]).values(), FIRST)[0]!.patrolOverdue;
    expect(opened('2026-12-01')).toBe(false);
    expect(opened('2026-11-20')).toBe(true);
  });

  it('a patrol last month is none missed yet: on 30 November the October one still counts', () => {
    const due = dues(new Date('2026-11-30T02:00:00Z'));
    expect(due.get('S0002')).toMatchObject({ patrolDue: true, patrolOverdue: false });
    expect(due.get('S0003')).toMatchObject({ patrolDue: true, patrolOverdue: true });
  });

  it('by the Shanghai calendar, across a new year', () => {
    const at = (performed: string, now: string): boolean =>
      dueAt(groupByShop([shop('S0001'), event<PatrolDoc>('S0001', 'patrol', performed)]).get('S0001')!, new Date(now)).patrolOverdue;
    // 00:30 on 1 November in Shanghai is still 31 October in UTC: it counts for November.
    expect(at('2026-11-01T00:30:00+08:00', '2026-12-01T02:00:00Z')).toBe(false);
    expect(at('2026-10-31T23:30:00+08:00', '2026-12-01T02:00:00Z')).toBe(true);
    // 1 December, 00:30 in Shanghai (still 30 November in UTC): November's patrol is last month's now.
    expect(at('2026-10-20T10:00:00+08:00', '2026-11-30T16:30:00Z')).toBe(true);
    expect(at('2026-12-05T10:00:00+08:00', '2027-01-01T02:00:00Z')).toBe(false);
    expect(at('2026-11-30T10:00:00+08:00', '2027-01-01T02:00:00Z')).toBe(true);
    expect(monthBefore('2027-01')).toBe('2026-12');
    expect(monthBefore('2026-12')).toBe('2026-11');
  });

  it('comes before a patrol merely due this month; the rest of the order stays', () => {
    const more: Doc[] = [
      ...docs,
      shop('S0005'), // an open hazard, patrolled this month: still before a missed patrol
      hazard('S0005', 'A-1', 'open', '2026-12-20'),
      event<PatrolDoc>('S0005', 'patrol', '2026-12-01T09:00:00+08:00'),
      shop('S0006'), // patrolled yesterday, no self-check this week, and the lowest score
      { _id: 'S0006:score', type: 'score', shop: 'S0006', points: 40, open_hazards: 0 } as Doc,
      event<PatrolDoc>('S0006', 'patrol', '2026-11-30T10:00:00+08:00'),
      shop('S0007'), // missed November, but self-checked this week
      event<SelfCheckDoc>('S0007', 'self_check', '2026-11-30T09:00:00+08:00'),
    ];
    const order = (now: Date): string[] => dueList(groupByShop(more).values(), now).map((d) => d.code);
    // Self-checks count by the week: on the 1st, S0007's Monday one is this week's.
    expect(order(FIRST)).toEqual(['S0005', 'S0002', 'S0003', 'S0007', 'S0006', 'S0001', 'S0004']);
    expect(order(MID)).toEqual(['S0005', 'S0002', 'S0003', 'S0007', 'S0006', 'S0001', 'S0004']);
    // Missed patrols are still patrols due: the 待巡查 filter and the month's progress count them.
    expect(filterDues(dueList(groupByShop(more).values(), FIRST), 'patrol').map((d) => d.code)).toEqual([
      'S0002',
      'S0003',
      'S0007',
      'S0006',
      'S0001',
    ]);
  });
});

describe('grid routes', () => {
  it('routes the grid paths and refuses the rest', () => {
    expect(matchGridRoute('')).toEqual({ name: 'list' });
    expect(matchGridRoute('?q=%E5%BA%97')).toEqual({ name: 'list' });
    expect(matchGridRoute('/scan')).toEqual({ name: 'scan' });
    expect(matchGridRoute('/s/S0001')).toEqual({ name: 'shop', code: 'S0001' });
    expect(matchGridRoute('/s/S0001/patrol')).toEqual({ name: 'patrol', code: 'S0001' });
    expect(matchGridRoute('/s/S0001/activation')).toEqual({ name: 'activation', code: 'S0001' });
    expect(matchGridRoute('/s/S0001/verify/01M7YN07V8XQJ7JEF02Y1DNSR6-f1')).toEqual({
      name: 'verify',
      code: 'S0001',
      hazard: '01M7YN07V8XQJ7JEF02Y1DNSR6-f1',
    });
    expect(matchGridRoute('/s/S0001/verify/a:b')).toEqual({ name: 'notFound' });
    expect(matchGridRoute('/s/%E0%A4%A')).toEqual({ name: 'notFound' });
    expect(matchGridRoute('/s/<script>')).toEqual({ name: 'notFound' });
    expect(matchGridRoute('/elsewhere')).toEqual({ name: 'notFound' });
  });
});

describe('new alarms on the grid worker\'s phone', () => {
  const now = Date.UTC(2026, 10, 29, 4, 0, 0);
  const alarm = (over: Record<string, unknown> = {}) => ({
    _id: 'S0001:alarm:01JDX000000000000000000000',
    type: 'alarm' as const,
    status: 'open' as const,
    created_at: new Date(now - 60_000).toISOString(),
    ...over,
  });

  it('announces an open alarm of the last day, once', () => {
    expect(isNews(alarm(), new Set(), now)).toBe(true);
    expect(isNews(alarm(), new Set(['S0001:alarm:01JDX000000000000000000000']), now)).toBe(false);
  });

  it('leaves alone old alarms (the first download), handled ones and other documents', () => {
    expect(isNews(alarm({ created_at: new Date(now - RECENT_MS - 1).toISOString() }), new Set(), now)).toBe(false);
    expect(isNews(alarm({ status: 'acknowledged' }), new Set(), now)).toBe(false);
    expect(isNews(alarm({ type: 'hazard' }) as never, new Set(), now)).toBe(false);
    expect(isNews(alarm({ created_at: 'yesterday' }), new Set(), now)).toBe(false);
    expect(isNews(undefined, new Set(), now)).toBe(false);
  });
});

describe('a verdict on the phone the server has not taken yet', () => {
  const fixed = hazard('S0001', 'h1', 'rectified', '2026-11-30');
  const fix = event<Doc>('S0001', 'rectification', '2026-11-26T10:00:00+08:00', 1, { hazard: fixed._id });
  const verdict = (passed: boolean, at = '2026-11-28T09:00:00+08:00'): Doc =>
    event<Doc>('S0001', 'verification', at, passed ? 2 : 3, { hazard: fixed._id, passed });

  it('is pending until the server shows it, and the hazard is not offered to verify again', () => {
    const file = groupByShop([shop('S0001'), fixed, fix, verdict(true)]).get('S0001')!;
    expect(pendingVerdict(file, fixed)?.passed).toBe(true);
    expect(dueAt(file, NOW).toVerify).toBe(0);
    // Nor is it a hazard still open on the list's card (未销号隐患 1) the moment the worker passed the fix offline.
    expect(dueAt(file, NOW)).toMatchObject({ openHazards: 0, overdueHazards: 0 });
    expect(filterDues([dueAt(file, NOW)], 'problems')).toEqual([]);
    // The server took the passed verdict: the hazard is closed, nothing pending.
    expect(pendingVerdict(file, { ...fixed, status: 'closed' })).toBeNull();
    // A failed verdict the server took reopened it: to be fixed again, not pending.
    const failed = groupByShop([shop('S0001'), fixed, fix, verdict(false)]).get('S0001')!;
    expect(pendingVerdict(failed, fixed)?.passed).toBe(false);
    expect(dueAt(failed, NOW)).toMatchObject({ openHazards: 1, toVerify: 0 }); // sent back: to be fixed again
    expect(pendingVerdict(failed, { ...fixed, status: 'open' })).toBeNull();
  });

  it('makes the item found wrong on a later patrol a new hazard, at once, as the server will once it has the verdict', () => {
    // The server closes the hazard at a passed verdict: a patrol's finding on its item after it is a new hazard (the
    // patrol form records it, ./grid-patrol-form.test.ts), shown on the e-file and counted on the list before the sync.
    const patrolAt = (at: string): PatrolDoc =>
      event<PatrolDoc>('S0001', 'patrol', at, 7, {
        findings: [{ id: 'extinguisher_valid', item: 'extinguisher_valid', severity: 'general', deadline: '2026-12-05' }],
      });
    const fileOf = (patrol: PatrolDoc, passed: boolean) =>
      groupByShop([shop('S0001'), fixed, fix, verdict(passed), patrol]).get('S0001')!;
    const provisional = (patrol: PatrolDoc, passed: boolean): string[] =>
      allHazards(fileOf(patrol, passed)).flatMap((h) => (h.provisional ? [h._id] : []));
    const after = patrolAt('2026-11-28T10:00:00+08:00');
    expect(provisional(after, true)).toEqual([`S0001:hazard:${after._id.split(':')[2]}-extinguisher_valid`]);
    expect(dueAt(fileOf(after, true), NOW).openHazards).toBe(1); // the new one, not the one passed
    // A patrol before the verdict found the hazard again; after a verdict that sent the fix back, it is still open.
    expect(provisional(patrolAt('2026-11-28T08:00:00+08:00'), true)).toEqual([]);
    expect(provisional(after, false)).toEqual([]);
    expect(dueAt(fileOf(after, false), NOW).openHazards).toBe(1);
  });

  it("counts a verdict and a fix naming a finding the server merged into the hazard (one of its aliases)", () => {
    // The phone showed the patrol's hazard P and verified the owner's fix of it; then the server merged P into the
    // older hazard `fixed` (found again while unresolved) and deleted P.
    const merged = 'S0001:hazard:01P-open_flame';
    const fixOfP = event<Doc>('S0001', 'rectification', '2026-11-26T10:00:00+08:00', 5, { hazard: merged });
    const verdictOfP = event<Doc>('S0001', 'verification', '2026-11-28T09:00:00+08:00', 6, { hazard: merged, passed: true });
    const withAlias = { ...fixed, aliases: [merged] };
    const file = groupByShop([shop('S0001'), withAlias, fixOfP, verdictOfP]).get('S0001')!;
    expect(pendingVerdict(file, withAlias)?._id).toBe(verdictOfP._id);
    expect(dueAt(file, NOW).toVerify).toBe(0); // not offered to verify a second time
    // Without the alias the phone could not tell: the same documents leave it to verify again.
    expect(pendingVerdict(file, fixed)).toBeNull();
  });

  it('is not pending once the owner rectified again after it', () => {
    const again = event<Doc>('S0001', 'rectification', '2026-11-28T09:30:00+08:00', 4, { hazard: fixed._id });
    const file = groupByShop([shop('S0001'), fixed, fix, verdict(false), again]).get('S0001')!;
    expect(pendingVerdict(file, fixed)).toBeNull();
    expect(dueAt(file, NOW).toVerify).toBe(1);
  });
});
