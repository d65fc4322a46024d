// @vitest-environment happy-dom
// An alarm card drawn again (a colleague's step, the live stream) keeps what the office user is typing on it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';
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

  it("drops the note this desk's own step sent, and keeps one typed since (the stream drew the step's card first)", () => {
    const dispatched = { ...alarm, status: 'dispatched', department: 'gas' };
    // The stream's echo of the dispatch drew the card first, the dispatch's note copied into it; its own answer
    // comes after: the note it sent goes.
    const echoed = alarmCard(dispatched as never, () => undefined);
    echoed.querySelector<HTMLTextAreaElement>('textarea[name="note"]')!.value = '转燃气公司上门';
    const answered = alarmCard(dispatched as never, () => undefined);
    keepTyping(echoed, answered, '转燃气公司上门');
    expect(answered.querySelector<HTMLTextAreaElement>('textarea[name="note"]')!.value).toBe('');
    // The clerk typed the resolve's note on the echoed card before the answer came: it stays.
    echoed.querySelector<HTMLTextAreaElement>('textarea[name="note"]')!.value = '已更换软管';
    const later = alarmCard(dispatched as never, () => undefined);
    keepTyping(echoed, later, '转燃气公司上门');
    expect(later.querySelector<HTMLTextAreaElement>('textarea[name="note"]')!.value).toBe('已更换软管');
  });

  it('keeps a department chosen on the card the stream drew before the answer to its own 确认 came', () => {
    const acknowledged = { ...alarm, status: 'acknowledged', history: [...alarm.history, { status: 'acknowledged', at: '2026-11-29T10:05:00+08:00', by: 'office:wang' }] };
    const echoed = alarmCard(acknowledged as never, () => undefined); // the stream's echo of this desk's 确认
    const dept = echoed.querySelector<HTMLSelectElement>('select[name="department"]')!;
    dept.value = 'gas';
    dept.dispatchEvent(new Event('change'));
    const answered = alarmCard(acknowledged as never, () => undefined); // then the 确认's own answer
    keepTyping(echoed, answered, '已电话联系店主');
    expect(answered.querySelector<HTMLSelectElement>('select[name="department"]')!.value).toBe('gas');
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

  describe('the 办结 dialog', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
      setLang('zh-CN');
    });

    /** The question the card's 办结 asks (declined: nothing is sent). */
    const asked = (alarm: object, today: string): string[] => {
      const questions: string[] = [];
      vi.stubGlobal('confirm', (message: string) => (questions.push(message), false));
      const card = alarmCard(alarm as never, () => undefined, new Map(), new Map(), known as never, today);
      card.querySelector<HTMLButtonElement>('[data-action=resolve]')!.click();
      return questions;
    };

    it('repeats which hazards are not closed yet before asking, as the card says it', () => {
      const dispatched = { ...found, status: 'dispatched', department: 'gas' };
      expect(asked(dispatched, '2026-12-04')).toEqual([
        '隐患尚未销号：燃气瓶/管道及报警器不安全（逾期 · 整改期限 2026-12-03）、食品是否分类存放（已整改待复查）\n' +
          '确认办结该报警？办结后不能撤回。',
      ]);
      expect(asked(found, '2026-12-02')).toEqual([
        '隐患尚未销号：燃气瓶/管道及报警器不安全（待整改 · 整改期限 2026-12-03）、食品是否分类存放（已整改待复查）\n' +
          '该报警尚未派单。确认不派单直接办结？办结后不能撤回。',
      ]);
    });

    it('says it in English too, and only asks once every hazard is closed', () => {
      setLang('en');
      expect(asked({ ...found, status: 'dispatched', department: 'gas' }, '2026-12-02')).toEqual([
        'Hazards not yet closed: Gas cylinder, hose or alarm unsafe (Open · Deadline 2026-12-03), Food stored apart (Rectified, awaiting check)\n' +
          'Resolve this alarm? This cannot be undone.',
      ]);
      setLang('zh-CN');
      const closed = { ...found, status: 'dispatched', items: found.items.map((it) => ({ ...it, hazard_status: 'closed' })) };
      expect(asked(closed, '2026-12-02')).toEqual(['确认办结该报警？办结后不能撤回。']);
    });
  });
});
