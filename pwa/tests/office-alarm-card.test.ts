// @vitest-environment happy-dom
// An alarm card drawn again (a colleague's step, the live stream) keeps what the office user is typing on it.
import { describe, expect, it } from 'vitest';
import { alarmCard, keepTyping } from '../src/office/alarms';

const alarm = {
  _id: 'S0001:alarm:01JE0B8C9D0E1F2G3H4J5K6M7N',
  shop: 'S0001',
  status: 'open',
  shop_name: '老王面馆',
  address: '明南路1号',
  grid_worker: 'grid:zhou',
  items: [{ item: 'gas_safe', severity: 'serious', hazard: 'S0001:hazard:x-f1', photos: [] }],
  cost: 10,
  department: null,
  created_at: '2026-11-29T10:00:00+08:00',
  history: [{ status: 'open', at: '2026-11-29T10:00:00+08:00', by: 'server' }],
};

describe('alarm card', () => {
  it('keeps the note being typed and the department chosen when a colleague acknowledges the alarm', () => {
    const mine = alarmCard(alarm as never, () => undefined);
    mine.querySelector<HTMLTextAreaElement>('textarea[name="note"]')!.value = '已电话联系店主，燃气阀已关';
    const dept = mine.querySelector<HTMLSelectElement>('select[name="department"]')!;
    dept.value = 'gas';
    dept.dispatchEvent(new Event('change'));
    const acknowledged = { ...alarm, status: 'acknowledged', history: [...alarm.history, { status: 'acknowledged', at: '2026-11-29T10:05:00+08:00', by: 'office:li' }] };
    const redrawn = alarmCard(acknowledged as never, () => undefined);
    keepTyping(mine, redrawn);
    expect(redrawn.dataset.status).toBe('acknowledged');
    expect(redrawn.querySelector<HTMLTextAreaElement>('textarea[name="note"]')!.value).toBe('已电话联系店主，燃气阀已关');
    expect(redrawn.querySelector<HTMLSelectElement>('select[name="department"]')!.value).toBe('gas');
  });

  it("takes the alarm's own department when the user chose none", () => {
    const mine = alarmCard(alarm as never, () => undefined);
    const dispatched = { ...alarm, status: 'acknowledged', department: 'market' };
    const redrawn = alarmCard(dispatched as never, () => undefined);
    keepTyping(mine, redrawn);
    expect(redrawn.querySelector<HTMLSelectElement>('select[name="department"]')!.value).toBe('market');
  });
});


describe('what the alarm found', () => {
  const found = {
    ...alarm,
    items: [
      { item: 'gas_safe', severity: 'serious', hazard: 'S0001:hazard:x-f1', photos: [], note: '阁楼住人处使用煤气灶做饭', hazard_status: 'open', deadline: '2026-12-03' },
      { item: 'ebike_indoor_charging', severity: 'serious', hazard: 'S0001:hazard:x-f2', photos: [], note: '', hazard_status: 'closed', deadline: '2026-11-30' },
      { item: 'food_storage', severity: 'major', hazard: 'S0001:hazard:x-f3', photos: [], note: '', hazard_status: 'rectified', deadline: '2026-12-01' },
    ],
  };
  const known = new Map([['food_storage', { id: 'food_storage', label_zh: '食品是否分类存放', label_en: 'Food stored apart' }]]);

  it('shows each item in words with its note and its hazard today, and says beside 办结 which are not closed', () => {
    const card = alarmCard(found as never, () => undefined, new Map(), new Map(), known as never, '2026-12-02');
    const rows = [...card.querySelectorAll('.items li')].map((li) => li.textContent);
    expect(rows).toEqual([
      '严重 燃气瓶/管道及报警器不安全 · 阁楼住人处使用煤气灶做饭 · 待整改 · 整改期限 2026-12-03',
      '严重 电瓶车店内充电 · 已销号',
      '较大 食品是否分类存放 · 已整改待复查',
    ]);
    const warning = card.querySelector('.alarm-actions [data-hazards-not-closed]')!;
    expect(warning.getAttribute('data-hazards-not-closed')).toBe('2');
    expect(warning.textContent).toBe('隐患尚未销号：燃气瓶/管道及报警器不安全（待整改 · 整改期限 2026-12-03）、食品是否分类存放（已整改待复查）');
  });

  it('calls an open hazard past its deadline overdue, and says nothing beside 办结 once all are closed', () => {
    const late = alarmCard(found as never, () => undefined, new Map(), new Map(), known as never, '2026-12-04');
    expect(late.querySelector('[data-item=gas_safe]')!.getAttribute('data-hazard-status')).toBe('overdue');
    expect(late.querySelector('[data-item=gas_safe] .badge.hz')!.textContent).toBe('逾期 · 整改期限 2026-12-03');
    const closed = { ...found, items: found.items.map((it) => ({ ...it, hazard_status: 'closed' })) };
    const card = alarmCard(closed as never, () => undefined, new Map(), new Map(), known as never, '2026-12-04');
    expect(card.querySelector('[data-hazards-not-closed]')).toBeNull();
    expect(card.querySelector('[data-action=resolve]')).not.toBeNull(); // resolving is never forbidden
  });
});
