// @vitest-environment happy-dom
// The patrol form says which hazards of the shop are still open (未销号隐患 … under the item, 另有 n 项隐患尚未销号
// by the submit button) as the list's card counts them: a fix the worker passed on this phone, which the server has not
// taken yet, is dealt with in both; a fix the worker sent back is still open in both. Its summary promises an alarm
// (提交后立即向安监所报警) exactly when the server will raise one, and says why; without a new hazard, the points the
// shop earns as the server gives them: to the day's first patrol of the shop only (a patrol the server refused is none).
// It says so again when a patrol of the shop is synced, or refused, while the form is open.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Doc, HazardDoc, RulesVersion, TemplateDoc } from '../src/grid/docs';
import rulesJson from '../../server/models/data/rules.json';
import templateJson from '../../server/models/data/template-fire-gas.json';
import { FakeLocalDb, selfCheckInOrder, shop } from './grid-fixtures';
import { shanghaiIso } from '../src/ulid';

const phone = vi.hoisted(() => ({ db: null as unknown, refused: new Set<string>(), redraw: null as null | (() => Promise<void> | void) }));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  refusedIds: () => new Set(phone.refused),
  // The screen's redraw, which db.ts calls on a change of the database or of the header's pending and refused counts
  // (local-changes.test.ts): here the test calls it where the real one would.
  whileShown: (_node: HTMLElement, onChange: () => Promise<void> | void) => {
    phone.redraw = onChange;
  },
  uploadState: async () => ({ unsent: new Set<string>(), refused: new Set<string>() }),
}));
vi.mock('../src/photo-cache', () => ({ thumbUrl: async (id: string) => `blob:${id}` }));

// Two items of the district's fire and gas template (server/models/data/template-fire-gas.json).
const TEMPLATE = {
  _id: 'district:template:fire-gas',
  type: 'template',
  schema: 1,
  version: 1,
  title: { zh: '消防与燃气安全', en: 'Fire and gas safety' },
  categories: ['*'],
  items: [
    {
      id: 'extinguisher_valid',
      label_zh: '灭火器是否在有效期内',
      label_en: 'Extinguisher within its expiry date',
      answer: 'yes_no',
      hazard_when: { equals: false },
      severity: 'general',
      photo_required: true,
      not_applicable: true,
    },
    {
      id: 'wiring_ok',
      label_zh: '电线是否规范（无私拉乱接）',
      label_en: 'Wiring in order (no improvised connections)',
      answer: 'yes_no',
      hazard_when: { equals: false },
      severity: 'general',
      photo_required: false,
    },
  ],
} as unknown as TemplateDoc;

function hazard(item: string, n: number): HazardDoc {
  return {
    _id: `S0001:hazard:01M7YN07V8XQJ7JEF02Y1DNS0${n}-${item}`,
    type: 'hazard',
    shop: 'S0001',
    status: 'rectified', // the owner's fix is on the server; the worker's verdict is not yet
    source: `S0001:patrol:01M7YN07V8XQJ7JEF02Y1DNS0${n}`,
    item,
    severity: 'general',
    self_reported: false,
    found_at: '2026-11-01T10:00:00+08:00',
    deadline: '2099-11-08',
    cost: 2,
  };
}

function followUp(type: 'rectification' | 'verification', of: HazardDoc, at: string, extra: object = {}): Doc {
  return {
    _id: `S0001:${type}:01M7YN07V8XQJ7JEF02Y1D${type === 'rectification' ? 'R' : 'V'}${of._id.slice(-4)}`,
    type,
    shop: 'S0001',
    hazard: of._id,
    performed_at: at,
    created_by: type === 'rectification' ? 'owner:S0001' : 'grid:zhou01',
    device: 'd-1',
    note: '',
    photos: [],
    ...extra,
  } as unknown as Doc;
}

const passed = hazard('extinguisher_valid', 1);
const sentBack = hazard('wiring_ok', 2);
const docs: object[] = [
  shop('S0001'),
  TEMPLATE,
  passed,
  followUp('rectification', passed, '2026-11-05T10:00:00+08:00'),
  followUp('verification', passed, '2026-11-06T10:00:00+08:00', { passed: true }),
  sentBack,
  followUp('rectification', sentBack, '2026-11-05T11:00:00+08:00'),
  followUp('verification', sentBack, '2026-11-06T11:00:00+08:00', { passed: false }),
];

beforeEach(() => {
  vi.resetModules();
  localStorage.clear();
  const db = new FakeLocalDb();
  db.write(...docs);
  phone.db = db;
  phone.refused = new Set();
  phone.redraw = null;
});

async function patrolForm(): Promise<HTMLElement> {
  const { patrolView } = await import('../src/grid/patrol');
  const view = patrolView('S0001');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelector('form.g-patrol [data-summary]')).not.toBeNull());
  return view.node;
}

function openLines(node: HTMLElement, item: string): string[] {
  return [...node.querySelectorAll(`fieldset[data-item="${item}"] [data-open-hazard]`)].map((p) => p.textContent ?? '');
}

function answer(node: HTMLElement, item: string, value: 'true' | 'false'): void {
  const radio = node.querySelector<HTMLInputElement>(`input[name="${item}"][value="${value}"]`)!;
  radio.checked = true;
  radio.dispatchEvent(new Event('change', { bubbles: true }));
}

describe('the patrol form after the worker verified fixes on this phone', () => {
  it('no longer calls a fix it passed an open hazard, as the list does not; one it sent back still is', async () => {
    const { dueAt, groupByShop } = await import('../src/grid/due');
    const node = await patrolForm();
    expect(openLines(node, 'extinguisher_valid')).toEqual([]);
    expect(openLines(node, 'wiring_ok')).toEqual(['未销号隐患：一般隐患 · 整改期限 2099-11-08 · 已整改待复核']);
    const summary = node.querySelector<HTMLElement>('[data-summary]')!;
    expect(summary.textContent).toBe('未发现新隐患：提交后该店加 5 分。另有 1 项隐患尚未销号。');
    // The list's card of the shop says the same: 未销号隐患 1.
    const file = groupByShop(docs as Doc[]).get('S0001')!;
    expect(dueAt(file, new Date()).openHazards).toBe(1);
  });

  it('records the item found wrong again after the passed fix as a new hazard, as the server will', async () => {
    // The server closes the hazard at the worker's verdict, before this patrol: its finding is a new hazard.
    const node = await patrolForm();
    answer(node, 'extinguisher_valid', 'false');
    await vi.waitFor(() => expect(node.querySelector<HTMLElement>('[data-summary]')!.dataset.findings).toBe('1'));
    expect(node.querySelector('[data-finding-for="extinguisher_valid"] select')).not.toBeNull();
    // The item whose fix was sent back keeps its hazard: found wrong again, it is that hazard, not a second one.
    answer(node, 'wiring_ok', 'false');
    const known = (): string | null | undefined => node.querySelector('[data-finding-for="wiring_ok"]')?.textContent;
    await vi.waitFor(() => expect(known()).toBe('该项已有未整改的隐患，不重复录入'));
    expect(node.querySelector<HTMLElement>('[data-summary]')!.dataset.findings).toBe('1');
  });
});

describe("the patrol form's summary of the alarm the patrol will raise", () => {
  // The district's rules (threshold 10; general 2, major 5, serious 10) and fire and gas checklist, as shipped.
  const RULES = rulesJson as RulesVersion;
  const FIRE = templateJson as unknown as TemplateDoc;
  const inOrder = selfCheckInOrder(FIRE);

  function onPhone(...docs: object[]): void {
    const db = new FakeLocalDb();
    db.write(shop('S0001'), FIRE, ...docs);
    phone.db = db;
  }

  async function summaryAfter(...found: [string, 'true' | 'false'][]): Promise<string> {
    const node = await patrolForm();
    for (const [item, value] of found) answer(node, item, value);
    const summary = node.querySelector<HTMLElement>('[data-summary]')!;
    await vi.waitFor(() => expect(summary.dataset.findings).toBe(String(found.length)));
    return summary.textContent ?? '';
  }

  it('promises the alarm when two major findings reach the threshold, with no serious one', async () => {
    onPhone(RULES);
    expect(await summaryAfter(['escape_route', 'false'], ['rcd_installed', 'false'])).toBe(
      '将录入 2 项隐患。扣分 10 分，达到报警阈值 10 分：提交后立即向安监所报警。',
    );
  });

  it('promises it for a serious finding', async () => {
    onPhone(RULES);
    expect(await summaryAfter(['open_flame', 'true'])).toBe('将录入 1 项隐患。含严重隐患：提交后立即向安监所报警。');
  });

  it('without signal, promises it when the patrol uploads, as the e-file says after; at once when the signal is back', async () => {
    onPhone(RULES);
    const { updateSyncFacts } = await import('../src/sync-status');
    updateSyncFacts({ online: false });
    expect(await summaryAfter(['escape_route', 'false'], ['rcd_installed', 'false'])).toBe(
      '将录入 2 项隐患。扣分 10 分，达到报警阈值 10 分：巡查上传后即向安监所报警。',
    );
    updateSyncFacts({ online: true });
    const summary = document.querySelector('[data-summary]')!;
    expect(summary.textContent).toBe('将录入 2 项隐患。扣分 10 分，达到报警阈值 10 分：提交后立即向安监所报警。');
    updateSyncFacts({ online: false });
    answer(document.body, 'escape_route', 'true'); // the worker takes one back: 5 points, no alarm
    await vi.waitFor(() => expect(summary.textContent).toBe('将录入 1 项隐患。'));
    answer(document.body, 'open_flame', 'true');
    await vi.waitFor(() => expect(summary.textContent).toBe('将录入 2 项隐患。含严重隐患：巡查上传后即向安监所报警。'));
  });

  it('in English, says the same, a space between its sentences', async () => {
    onPhone(RULES);
    const { setLang } = await import('../src/i18n');
    setLang('en');
    const { updateSyncFacts } = await import('../src/sync-status');
    updateSyncFacts({ online: false });
    expect(await summaryAfter(['open_flame', 'true'])).toBe(
      'Hazards to be recorded: 1. Includes a serious hazard: the safety office is alerted when the patrol uploads.',
    );
  });

  it('promises none below the threshold', async () => {
    onPhone(RULES);
    expect(await summaryAfter(['escape_route', 'false'], ['wiring_ok', 'false'])).toBe('将录入 2 项隐患。'); // 5 + 2
  });

  it('counts the +3 of each item the latest self-check declared in order', async () => {
    // Prefilled with the self-check; the worker finds two of its "in order" wrong: 5 + 3 + 2 + 3 = 13.
    onPhone(RULES, inOrder);
    expect(await summaryAfter(['escape_route', 'false'], ['wiring_ok', 'false'])).toBe(
      '将录入 2 项隐患。扣分 13 分，达到报警阈值 10 分：提交后立即向安监所报警。',
    );
  });

  // The office lowered the threshold to 7 in version 2.
  const lowered = (from: string): RulesVersion[] => [
    { ...RULES, _id: 'district:rules:v1' },
    { ...RULES, version: 2, effective_from: from, alarm_threshold: 7 },
  ];

  it('reads the threshold of the rules in force today', async () => {
    onPhone(...lowered('2000-01-01'));
    expect(await summaryAfter(['escape_route', 'false'], ['wiring_ok', 'false'])).toBe(
      '将录入 2 项隐患。扣分 7 分，达到报警阈值 7 分：提交后立即向安监所报警。',
    );
  });

  it('not that of a version applying only from a later day', async () => {
    onPhone(...lowered('2099-01-01'));
    expect(await summaryAfter(['escape_route', 'false'], ['wiring_ok', 'false'])).toBe('将录入 2 项隐患。');
  });
});

describe("the patrol form's summary of the points a patrol without a new hazard earns", () => {
  // The server gives a shop the clean patrol's points once a day, to its first patrol of the day (projections.py
  // `_visit`), by the rules in force that day.
  const RULES = rulesJson as RulesVersion;
  const FIRE = templateJson as unknown as TemplateDoc;
  const DAY_MS = 24 * 60 * 60 * 1000;

  function patrol(n: number, at: string, by = 'grid:zhou01'): object {
    return {
      _id: `S0001:patrol:01M7YN07V8XQJ7JEF02Y1DNSP${n}`,
      type: 'patrol',
      shop: 'S0001',
      performed_at: at,
      created_by: by,
      device: by === 'grid:zhou01' ? 'd-1' : 'd-9',
      template: FIRE._id,
      template_version: 1,
      answers: {},
      findings: [],
    };
  }

  async function cleanSummary(...docs: object[]): Promise<string> {
    const db = new FakeLocalDb();
    db.write(shop('S0001'), FIRE, ...docs);
    phone.db = db;
    const node = await patrolForm();
    const summary = node.querySelector<HTMLElement>('[data-summary]')!;
    expect(summary.dataset.findings).toBe('0');
    return summary.textContent ?? '';
  }

  it("promises the day's first patrol the points of today's rules", async () => {
    expect(await cleanSummary(RULES)).toBe('未发现新隐患：提交后该店加 5 分。');
  });

  // The office changed the clean patrol's points to 8 in version 2.
  const versions = (from: string): RulesVersion[] => [
    { ...RULES, _id: 'district:rules:v1' },
    { ...RULES, version: 2, effective_from: from, patrol_clean_points: 8 } as RulesVersion,
  ];

  it('says the number of points of the rules version in force today', async () => {
    expect(await cleanSummary(...versions('2000-01-01'))).toBe('未发现新隐患：提交后该店加 8 分。');
  });

  it('not that of a version applying only from a later day', async () => {
    expect(await cleanSummary(...versions('2099-01-01'))).toBe('未发现新隐患：提交后该店加 5 分。');
  });

  const again = '未发现新隐患。今天已巡查过该店，本次不再加分。';

  it("promises no points to a second patrol today: another worker's, synced", async () => {
    expect(await cleanSummary(RULES, patrol(1, shanghaiIso(Date.now()), 'grid:wang02'))).toBe(again);
  });

  it("nor after this phone's own patrol today, not uploaded yet (the worker opens the form again)", async () => {
    expect(await cleanSummary(RULES, patrol(2, shanghaiIso(Date.now())))).toBe(again);
  });

  it('keeps the open hazards beside it, and says it in English', async () => {
    const { setLang } = await import('../src/i18n');
    setLang('en');
    expect(await cleanSummary(RULES, patrol(1, shanghaiIso(Date.now())), sentBack)).toBe(
      'No new hazard. The shop was already patrolled today: this patrol earns no points. 1 earlier hazard is not closed yet.',
    );
  });

  it('promises the points again the day after a patrol', async () => {
    expect(await cleanSummary(RULES, patrol(1, shanghaiIso(Date.now() - DAY_MS)))).toBe('未发现新隐患：提交后该店加 5 分。');
  });

  /** The form's own words above the checklist (the notice of a second visit today among them). */
  const formText = (): string => document.querySelector('form.g-patrol')?.textContent ?? '';

  it("follows a colleague's patrol of the shop synced while the form is open, keeping what the worker entered", async () => {
    expect(await cleanSummary(RULES)).toBe('未发现新隐患：提交后该店加 5 分。');
    expect(formText()).not.toContain('已巡查过本店');
    const summary = document.querySelector<HTMLElement>('[data-summary]')!;
    answer(document.body, 'open_flame', 'true'); // the worker finds an open flame
    await vi.waitFor(() => expect(summary.textContent).toBe('将录入 1 项隐患。含严重隐患：提交后立即向安监所报警。'));
    // A colleague patrolled the shop a moment ago and found the same open flame: their patrol and the server's hazard
    // (and its alarm) come down by sync.
    const theirs = patrol(3, shanghaiIso(Date.now() - 60_000), 'grid:wang02') as { _id: string; performed_at: string };
    const ulid = theirs._id.split(':')[2];
    (phone.db as FakeLocalDb).write(
      { ...theirs, findings: [{ id: 'open_flame', item: 'open_flame', severity: 'serious', deadline: '2099-12-31' }] },
      {
        _id: `S0001:hazard:${ulid}-open_flame`,
        type: 'hazard',
        shop: 'S0001',
        status: 'open',
        source: theirs._id,
        item: 'open_flame',
        finding: 'open_flame',
        severity: 'serious',
        self_reported: false,
        found_at: theirs.performed_at,
        deadline: '2099-12-31',
        cost: 10,
      },
    );
    await phone.redraw?.();
    // A second visit today: no points, and the open flame is their hazard, neither found again nor alarmed again.
    await vi.waitFor(() => expect(summary.textContent).toBe('未发现新隐患。今天已巡查过该店，本次不再加分。另有 1 项隐患尚未销号。'));
    expect(formText()).toContain(`今天 ${theirs.performed_at.slice(11, 16)} 已巡查过本店。再次提交会在档案中记为又一次巡查。`);
    expect(document.querySelector('fieldset[data-item="open_flame"] [data-open-hazard]')?.textContent).toContain('严重隐患');
    expect(document.querySelector('[data-finding-for="open_flame"]')?.textContent).toBe('该项已有未整改的隐患，不重复录入');
    // What the worker entered stays.
    expect(document.querySelector<HTMLInputElement>('input[name="open_flame"][value="true"]')!.checked).toBe(true);
  });

  // This phone's patrol of the shop today, which the server refused (out of the worker's scope when it arrived): it is
  // no visit, and finds no hazard.
  const refusedToday = (): { _id: string; findings: object[] } => ({
    ...(patrol(4, shanghaiIso(Date.now() - 60_000)) as { _id: string }),
    findings: [{ id: 'wiring_ok', item: 'wiring_ok', severity: 'general', deadline: '2099-12-31' }],
  });

  it('does not count a patrol of today the server refused', async () => {
    const refused = refusedToday();
    phone.refused = new Set([refused._id]);
    expect(await cleanSummary(RULES, refused)).toBe('未发现新隐患：提交后该店加 5 分。');
    expect(formText()).not.toContain('已巡查过本店');
    expect(document.querySelector('fieldset[data-item="wiring_ok"] [data-open-hazard]')).toBeNull();
  });

  it('follows the refusal of a patrol of today coming while the form is open', async () => {
    const refused = refusedToday();
    expect(await cleanSummary(RULES, refused)).toBe(again);
    expect(formText()).toContain('已巡查过本店');
    const openLine = (): Element | null => document.querySelector('fieldset[data-item="wiring_ok"] [data-open-hazard]');
    expect(openLine()).not.toBeNull(); // its finding, until the server answers
    phone.refused = new Set([refused._id]);
    await phone.redraw?.(); // the header's count of refusals changed
    const summary = document.querySelector<HTMLElement>('[data-summary]')!;
    await vi.waitFor(() => expect(summary.textContent).toBe('未发现新隐患：提交后该店加 5 分。'));
    expect(formText()).not.toContain('已巡查过本店');
    expect(openLine()).toBeNull();
  });
});
