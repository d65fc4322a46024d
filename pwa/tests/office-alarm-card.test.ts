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

