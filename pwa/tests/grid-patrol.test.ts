import { describe, expect, it } from 'vitest';
import type { AnswerValue, HazardDoc, PatrolDoc, RulesDoc, SelfCheckDoc, TemplateDoc } from '../src/grid/docs';
import {
  buildPatrol,
  buildPatrols,
  defaultDeadline,
  findingId,
  hazardItems,
  itemCheck,
  itemFindings,
  latestFor,
  patrolledOn,
  prefill,
  prefillVisit,
  restoreDraft,
  problems,
  selfChecksToVerify,
  selfChecksToVerifyNow,
  visitProblems,
  type PatrolContext,
  type PatrolDraft,
  type Visit,
} from '../src/grid/patrol-logic';
import foodJson from '../../server/office/modules/food-safety.json?raw';
import { shopFromQr } from '../src/grid/scan-logic';
import { verificationFields } from '../src/grid/verify-fields';
import rulesJson from '../../server/models/data/rules.json?raw';
import templateJson from '../../server/models/data/template-fire-gas.json?raw';

// The server's own default template and rules: the phone must read them the way the server does.
const TEMPLATE = JSON.parse(templateJson) as TemplateDoc;
const RULES = JSON.parse(rulesJson) as RulesDoc;

const ULID = '01M7YN07V8XQJ7JEF02Y1DNSR6';

function selfCheck(n: number, at: string, changes: Record<string, AnswerValue> = {}): SelfCheckDoc {
  const inOrder: Record<string, AnswerValue> = {
    open_flame: false,
    sleeping_people: 0,
    three_in_one: false,
    escape_route: true,
    extinguisher_present: true,
    extinguisher_valid: true,
    rcd_installed: true,
    ebike_indoor_charging: false,
    gas_safe: true,
    wiring_ok: true,
    ...changes,
  };
  const answers = Object.fromEntries(
    Object.entries(inOrder).map(([id, value]) => [
      id,
      (id === 'extinguisher_valid' || id === 'gas_safe') && value !== 'na'
        ? { value, photos: [`S0001:photo:01M4DTKFSSA5WXNBBKCGMPKN${n}A`] }
        : { value },
    ]),
  );
  return {
    _id: `S0001:self_check:01M4DTY3V0A5DMMC9M4WQKAW${String(n).padStart(2, '0')}`,
    type: 'self_check',
    shop: 'S0001',
    performed_at: at,
    created_by: 'owner:S0001',
    device: 'd-owner',
    template: 'district:template:fire-gas',
    template_version: 1,
    answers,
  };
}

const patrolAt = (at: string): PatrolDoc =>
  ({ _id: `S0001:patrol:${ULID}`, type: 'patrol', performed_at: at, answers: {} }) as unknown as PatrolDoc;

const LATEST = selfCheck(2, '2026-11-24T09:00:00+08:00');
const OLDER = selfCheck(1, '2026-11-17T09:00:00+08:00');

function ctx(extra: Partial<PatrolContext> = {}): PatrolContext {
  return { template: TEMPLATE, rules: RULES, latest: LATEST, unresolved: [], today: '2026-11-28', ...extra };
}

function set(draft: PatrolDraft, item: string, value: AnswerValue, own: string[] = []): PatrolDraft {
  draft.items[item] = { ...draft.items[item]!, value, ownPhotos: own };
  return draft;
}

const AUTHOR = { user: 'grid:zhou01', device: 'd-grid', performedAt: '2026-11-28T10:00:00+08:00' };

describe('prefill and verification', () => {
  it('prefills every item with the owner’s latest answer and verifies the self-checks since the last patrol', () => {
    const toVerify = selfChecksToVerify([OLDER, LATEST], [patrolAt('2026-11-20T10:00:00+08:00')]);
    expect(toVerify.map((c) => c._id)).toEqual([LATEST._id]);
    const draft = prefill(TEMPLATE, LATEST, toVerify);
    expect(draft.items.open_flame?.value).toBe(false);
    expect(draft.items.sleeping_people?.value).toBe(0);
    expect(draft.verified).toEqual([LATEST._id]);
    expect(selfChecksToVerify([OLDER, LATEST], []).map((c) => c._id)).toEqual([LATEST._id, OLDER._id]);
  });

  it('follows the self-checks synced while the form is open, keeping what the worker ticked', () => {
    const ids = (checks: SelfCheckDoc[]): string[] => checks.map((c) => c._id);
    const NEW = selfCheck(3, '2026-11-28T08:00:00+08:00'); // the owner's, this morning, synced mid-visit
    // Listed at opening: LATEST and OLDER; the worker unticked OLDER.
    const offered = new Set([LATEST._id, OLDER._id]);
    let now = selfChecksToVerifyNow([NEW, LATEST, OLDER], [], [LATEST._id], offered);
    expect(ids(now.list)).toEqual([NEW._id, LATEST._id, OLDER._id]);
    expect(now.verified).toEqual([NEW._id, LATEST._id]); // the new one ticked, as all are at first; OLDER stays unticked
    // A colleague's patrol at 10:00 synced: the ticked ones stay (this worker verified them), the unticked one goes.
    now = selfChecksToVerifyNow([NEW, LATEST, OLDER], [patrolAt('2026-11-28T10:00:00+08:00')], now.verified, offered);
    expect(ids(now.list)).toEqual([NEW._id, LATEST._id]);
    expect(now.verified).toEqual([NEW._id, LATEST._id]);
    // One the phone no longer holds is neither listed nor verified.
    now = selfChecksToVerifyNow([NEW, OLDER], [], now.verified, new Set([...offered, NEW._id]));
    expect(ids(now.list)).toEqual([NEW._id, OLDER._id]);
    expect(now.verified).toEqual([NEW._id]);
  });

  it('without a self-check nothing is prefilled and every item must be answered', () => {
    const draft = prefill(TEMPLATE, null, []);
    expect(Object.values(draft.items).every((d) => d.value === null)).toBe(true);
    const found = problems(ctx({ latest: null }), draft);
    expect(found.filter((p) => p.reason === 'unanswered')).toHaveLength(10);
  });

  it('marks each item confirmed, disputed, new or unanswered', () => {
    expect(itemCheck({ value: true }, { value: true, ownPhotos: [], note: '' })).toBe('confirmed');
    expect(itemCheck({ value: false }, { value: true, ownPhotos: [], note: '' })).toBe('disputed');
    expect(itemCheck({ value: 0 }, { value: 2, ownPhotos: [], note: '' })).toBe('disputed');
    expect(itemCheck(undefined, { value: true, ownPhotos: [], note: '' })).toBe('new');
    expect(itemCheck({ value: true }, { value: null, ownPhotos: [], note: '' })).toBe('unanswered');
  });
});

describe('findings', () => {
  it('a confirmed clean self-check gives a clean patrol that reuses the owner’s photos', () => {
    const draft = prefill(TEMPLATE, LATEST, [LATEST]);
    expect(problems(ctx(), draft)).toEqual([]);
    const patrol = buildPatrol(ctx(), draft, 'S0001', ULID, AUTHOR);
    expect(patrol.findings).toEqual([]);
    expect(patrol.answers.gas_safe).toEqual({ value: true, photos: ['S0001:photo:01M4DTKFSSA5WXNBBKCGMPKN2A'] });
    expect(Object.keys(patrol.answers)).toHaveLength(10);
  });

  it('a disputed answer that is a hazard becomes a finding with the rules’ deadline', () => {
    const draft = set(prefill(TEMPLATE, LATEST, [LATEST]), 'open_flame', true, ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS01']);
    const patrol = buildPatrol(ctx(), draft, 'S0001', ULID, AUTHOR);
    expect(patrol.findings).toEqual([
      {
        id: 'open_flame',
        item: 'open_flame',
        severity: 'serious',
        deadline: '2026-11-29', // serious: 1 day
        photos: ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS01'],
      },
    ]);
    expect(patrol.answers.open_flame).toEqual({ value: true, photos: ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS01'] });
  });

  it('a disputed photo item drops the owner’s photo and needs the worker’s own', () => {
    const draft = set(prefill(TEMPLATE, LATEST, [LATEST]), 'extinguisher_valid', false);
    expect(problems(ctx(), draft)).toEqual([{ item: 'extinguisher_valid', reason: 'photo_required' }]);
    set(draft, 'extinguisher_valid', false, ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS02']);
    expect(problems(ctx(), draft)).toEqual([]);
    const patrol = buildPatrol(ctx(), draft, 'S0001', ULID, AUTHOR);
    expect(patrol.answers.extinguisher_valid?.photos).toEqual(['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS02']);
    expect(patrol.findings?.[0]).toMatchObject({ item: 'extinguisher_valid', severity: 'general', deadline: '2026-12-05' });
  });

  it('people sleeping in a “三合一” shop are serious, alone they are major', () => {
    const draft = set(prefill(TEMPLATE, LATEST, []), 'sleeping_people', 2);
    expect(itemFindings(TEMPLATE, draft, [])).toEqual([{ item: 'sleeping_people', severity: 'major' }]);
    set(draft, 'three_in_one', true);
    expect(itemFindings(TEMPLATE, draft, [])).toEqual([
      { item: 'sleeping_people', severity: 'serious' },
      { item: 'three_in_one', severity: 'serious' },
    ]);
  });

  it('a hazard still open is not found again; the worker’s severity and deadline win', () => {
    const open = { item: 'wiring_ok', status: 'open' } as HazardDoc;
    const draft = set(set(prefill(TEMPLATE, LATEST, []), 'wiring_ok', false), 'escape_route', false);
    draft.items.escape_route = { ...draft.items.escape_route!, severity: 'serious', deadline: '2026-11-28' };
    const patrol = buildPatrol(ctx({ unresolved: [open] }), draft, 'S0001', ULID, AUTHOR);
    expect(patrol.findings).toEqual([{ id: 'escape_route', item: 'escape_route', severity: 'serious', deadline: '2026-11-28' }]);
  });

  it('other problems need a note or a photo and a deadline not before today', () => {
    const draft = prefill(TEMPLATE, LATEST, []);
    draft.others.push({ id: 'other-1', severity: 'major', deadline: '2026-11-27', note: ' ', photos: [] });
    expect(problems(ctx(), draft)).toEqual([
      { item: 'other-1', reason: 'deadline' },
      { item: 'other-1', reason: 'note_required' },
    ]);
    draft.others[0] = { ...draft.others[0]!, deadline: defaultDeadline(RULES, 'major', '2026-11-28'), note: '楼梯间堆放纸箱' };
    expect(problems(ctx(), draft)).toEqual([]);
    expect(buildPatrol(ctx(), draft, 'S0001', ULID, AUTHOR).findings).toEqual([
      { id: 'other-1', item: 'other', severity: 'major', deadline: '2026-12-01', note: '楼梯间堆放纸箱' },
    ]);
  });

  it('deadlines follow the office’s rules document, with SPEC’s defaults before it has synced', () => {
    const edited = { ...RULES, deadline_days: { general: 10, major: 5, serious: 2 } };
    expect(defaultDeadline(edited, 'serious', '2026-12-31')).toBe('2027-01-02');
    expect(defaultDeadline(null, 'major', '2026-11-28')).toBe('2026-12-01');
  });

  it('more than 20 photos cannot be sent', () => {
    const draft = prefill(TEMPLATE, LATEST, []);
    const many = Array.from({ length: 19 }, (_, i) => `S0001:photo:01M7YN07V8XQJ7JEF02Y1DN${String(i).padStart(3, '0')}`);
    set(draft, 'wiring_ok', true, many); // + the owner's 2 reused photos = 21
    expect(problems(ctx(), draft)).toContainEqual({ item: '', reason: 'too_many_photos' });
  });
});

describe('the patrol event', () => {
  it('carries the wire format v1 fields the gateway checks', () => {
    const draft = prefill(TEMPLATE, LATEST, [LATEST, OLDER]);
    draft.verified = [LATEST._id];
    const patrol = buildPatrol(ctx(), draft, 'S0001', ULID, AUTHOR);
    expect(patrol).toMatchObject({
      _id: `S0001:patrol:${ULID}`,
      type: 'patrol',
      schema: 1,
      shop: 'S0001',
      performed_at: '2026-11-28T10:00:00+08:00',
      created_by: 'grid:zhou01',
      device: 'd-grid',
      template: 'district:template:fire-gas',
      template_version: 1,
      verified_self_checks: [LATEST._id],
    });
  });

  it('the e-file names the hazards a self-check declared', () => {
    expect(hazardItems(TEMPLATE, selfCheck(3, '2026-11-24T09:00:00+08:00', { gas_safe: false, open_flame: true }).answers)).toEqual([
      'open_flame',
      'gas_safe',
    ]);
  });
});

describe('an item the owner answered 不适用', () => {
  // A clothing shop: no gas at all. The owner answered 不适用 with no photo; the worker sees it and may confirm it.
  const NO_GAS = selfCheck(4, '2026-11-24T09:00:00+08:00', { gas_safe: 'na' });

  it('is prefilled as 不适用, confirmed without a photo, and sent as "na"', () => {
    const draft = prefill(TEMPLATE, NO_GAS, [NO_GAS]);
    expect(draft.items.gas_safe?.value).toBe('na');
    expect(itemCheck(NO_GAS.answers.gas_safe, draft.items.gas_safe)).toBe('confirmed');
    const context = ctx({ latest: NO_GAS });
    expect(problems(context, draft)).toEqual([]);
    const patrol = buildPatrol(context, draft, 'S0001', ULID, AUTHOR);
    expect(patrol.answers.gas_safe).toEqual({ value: 'na' });
    expect(patrol.findings).toEqual([]);
    expect(hazardItems(TEMPLATE, NO_GAS.answers)).toEqual([]);
  });

  it('is disputed when the worker finds gas after all: a finding, with the worker’s photo', () => {
    const draft = set(prefill(TEMPLATE, NO_GAS, []), 'gas_safe', false);
    expect(itemCheck(NO_GAS.answers.gas_safe, draft.items.gas_safe)).toBe('disputed');
    const context = ctx({ latest: NO_GAS });
    expect(problems(context, draft)).toEqual([{ item: 'gas_safe', reason: 'photo_required' }]);
    set(draft, 'gas_safe', false, ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS03']);
    expect(buildPatrol(context, draft, 'S0001', ULID, AUTHOR).findings).toEqual([
      { id: 'gas_safe', item: 'gas_safe', severity: 'serious', deadline: '2026-11-29', photos: ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS03'] },
    ]);
  });

  it('the worker may answer 不适用 too, and a draft keeps it', () => {
    const fresh = prefill(TEMPLATE, LATEST, [LATEST]);
    const typed = set(prefill(TEMPLATE, LATEST, [LATEST]), 'extinguisher_valid', 'na');
    expect(itemCheck(LATEST.answers.extinguisher_valid, typed.items.extinguisher_valid)).toBe('disputed');
    expect(problems(ctx(), typed)).toEqual([]);
    const restored = restoreDraft(JSON.parse(JSON.stringify(typed)), fresh);
    expect(restored?.items.extinguisher_valid?.value).toBe('na');
    expect(buildPatrol(ctx(), restored!, 'S0001', ULID, AUTHOR).answers.extinguisher_valid).toEqual({ value: 'na' });
  });

  it('is not prefilled where the office has taken the choice away since: the worker answers it', () => {
    const strict = { ...TEMPLATE, items: TEMPLATE.items.map((i) => ({ ...i, not_applicable: false })) };
    const draft = prefill(strict, NO_GAS, []);
    expect(draft.items.gas_safe?.value).toBeNull();
    expect(problems(ctx({ template: strict, latest: NO_GAS }), draft)).toEqual([{ item: 'gas_safe', reason: 'unanswered' }]);
  });
});

describe('drafts', () => {
  it('restores what was typed, takes new items from the prefill and drops what is not a draft', () => {
    const fresh = prefill(TEMPLATE, LATEST, [LATEST]);
    const typed = set(prefill(TEMPLATE, LATEST, [LATEST]), 'open_flame', true, ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS01']);
    delete typed.items.wiring_ok; // saved before the template had this item
    typed.items.retired_item = { value: true, ownPhotos: [], note: '' };
    const restored = restoreDraft(JSON.parse(JSON.stringify(typed)), fresh);
    expect(restored?.items.open_flame).toEqual({ value: true, ownPhotos: ['S0001:photo:01M7YN07V8XQJ7JEF02Y1DNS01'], note: '' });
    expect(restored?.items.wiring_ok).toEqual(fresh.items.wiring_ok);
    expect(restored?.items.retired_item).toBeUndefined();
    expect(restored?.verified).toEqual([LATEST._id]);
    expect(restoreDraft(null, fresh)).toBeNull();
    expect(restoreDraft({ items: {} }, fresh)).toBeNull();
    expect(restoreDraft('garbage', fresh)).toBeNull();
  });
});

describe('several checklist modules in one visit', () => {
  const FOOD = JSON.parse(foodJson) as TemplateDoc;
  const foodCheck: SelfCheckDoc = {
    ...selfCheck(5, '2026-11-25T09:00:00+08:00'),
    _id: 'S0001:self_check:01M4DTY3V0A5DMMC9M4WQKAW55',
    template: 'district:template:food-safety',
    answers: Object.fromEntries(
      FOOD.items.map((i) => [i.id, i.id === 'licence_displayed' ? { value: true, photos: ['S0001:photo:01M4DTKFSSA5WXNBBKCGMPKN5A'] } : { value: i.id === 'expired_food' ? false : true }]),
    ),
  };
  const checks = [LATEST, foodCheck];
  const visit: Visit = {
    modules: [TEMPLATE, FOOD].map((template) => ({ ...ctx(), template, latest: latestFor(template, checks) })),
    selfChecks: checks,
  };

  it('writes one patrol per module, each with its own items, findings and verified self-checks', () => {
    expect(visit.modules.map((m) => m.latest?._id)).toEqual([LATEST._id, foodCheck._id]);
    const draft = set(prefillVisit(visit, checks), 'expired_food', true);
    draft.others.push({ id: 'other-1', severity: 'general', deadline: '2026-12-05', note: '灭火器被货物遮挡', photos: [] });
    expect(visitProblems(visit, draft)).toEqual([]);
    let n = 0;
    const [fire, food] = buildPatrols(visit, draft, 'S0001', () => `01M7YN07V8XQJ7JEF02Y1DNS${String(n++).padStart(2, '0')}`, AUTHOR);
    expect(fire?.template).toBe('district:template:fire-gas');
    expect(Object.keys(fire?.answers ?? {})).toHaveLength(10);
    expect(fire?.verified_self_checks).toEqual([LATEST._id]);
    expect(fire?.findings?.map((f) => f.id)).toEqual(['other-1']);
    expect(food?.template).toBe('district:template:food-safety');
    expect(food?._id).not.toBe(fire?._id);
    expect(Object.keys(food?.answers ?? {})).toEqual(FOOD.items.map((i) => i.id));
    expect(food?.verified_self_checks).toEqual([foodCheck._id]);
    expect(food?.findings).toEqual([{ id: 'expired_food', item: 'expired_food', severity: 'serious', deadline: '2026-11-29' }]);
  });

  it('a long item id still makes a finding id the gateway accepts', () => {
    const long = 'a_very_long_item_id_that_an_office_might_write_one_day';
    expect(findingId('open_flame')).toBe('open_flame');
    expect(findingId(long)).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/);
    expect(findingId(long)).not.toBe(findingId(long + '2'));
  });
});

describe('verification', () => {
  it('names the hazard, the rectification it judges, the verdict and the note', () => {
    const hazard = { _id: `S0001:hazard:${ULID}-wiring_ok`, shop: 'S0001' } as HazardDoc;
    const fix = { _id: 'S0001:rectification:01M5V735KGXK6KXN4DMNY0Z407' } as Parameters<typeof verificationFields>[1];
    expect(verificationFields(hazard, fix, false, ' 电线仍未整理 ', [])).toEqual({
      type: 'verification',
      shop: 'S0001',
      hazard: hazard._id,
      rectification: 'S0001:rectification:01M5V735KGXK6KXN4DMNY0Z407',
      passed: false,
      note: '电线仍未整理',
      photos: [],
    });
    expect(verificationFields(hazard, null, true, '', []).rectification).toBeNull();
  });
});

describe('scanned QR codes', () => {
  it('opens a shop from its poster URL on any host, or a typed code', () => {
    expect(shopFromQr('https://mashang.example.gov.cn/s/S0001')).toBe('S0001');
    expect(shopFromQr('http://127.0.0.1:8000/s/S0042/')).toBe('S0042');
    expect(shopFromQr(' S0007 ')).toBe('S0007');
    expect(shopFromQr('https://example.com/s/S%2F1')).toBeNull();
    expect(shopFromQr('https://example.com/other/S0001')).toBeNull();
    expect(shopFromQr('javascript:alert(1)//s/S0001')).toBeNull();
    expect(shopFromQr('WIFI:S:shop;T:WPA;P:secret;;')).toBeNull();
  });
});

describe('a shop patrolled today', () => {
  const at = (performed_at: string, key: string): PatrolDoc =>
    ({ _id: `S0001:patrol:${key}`, type: 'patrol', shop: 'S0001', performed_at, findings: [] }) as unknown as PatrolDoc;

  it("finds the day's latest patrol in Shanghai time, and none on another day", () => {
    const patrols = [at('2026-11-28T09:00:00+08:00', 'a'), at('2026-11-28T15:30:00+08:00', 'b'), at('2026-11-27T23:00:00Z', 'c')];
    expect(patrolledOn(patrols, '2026-11-28')?._id).toBe('S0001:patrol:b'); // 15:30, after c's 07:00
    expect(patrolledOn(patrols.slice(2), '2026-11-28')?._id).toBe('S0001:patrol:c'); // the 28th in Shanghai
    expect(patrolledOn(patrols, '2026-11-29')).toBeNull();
  });
});
