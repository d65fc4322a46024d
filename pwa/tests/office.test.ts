import { describe, expect, it } from 'vitest';
import { countTicks, linePoints, LINE_BOX, yRange } from '../src/office/charts';
import { exportTarget } from '../src/office/exports';
import { change, pct, thisMonth, when } from '../src/office/format';
import { label, officeEn, officeZh, ot } from '../src/office/i18n';
import { parseRest } from '../src/office/main';
import { sortRows } from '../src/office/ui';
import { rowsOf } from '../src/office/overview';
import { accountOf, auditPage, auditPath, eventOf } from '../src/office/audit';
import { communityBody, contentTypeOf, moveOf, type Community } from '../src/office/registry';
import { explainReason, fieldErrors, fieldReason, flatten, unflatten } from '../src/office/rules';
import { followStream, reconnectDelay, SseParser, type SseEvent } from '../src/office/sse';
import { countedTitle } from '../src/office/watch';

describe('server-sent events parser', () => {
  it('parses events split across chunks anywhere, with ids, names, comments and CRLF', () => {
    const p = new SseParser();
    const all = [
      ...p.feed('retry: 3000\n\n: keepalive\n\nid: b-1\nevent: al'),
      ...p.feed('arm\ndata: {"change":"new",\r\ndata: "x":1}\r'),
      ...p.feed('\n\r\nevent: reset\ndata: {}\n\n'),
    ];
    expect(all).toEqual([
      { id: 'b-1', event: 'alarm', data: '{"change":"new",\n"x":1}' },
      { id: null, event: 'reset', data: '{}' },
    ]);
    expect(p.retry).toBe(3000);
    expect(p.lastEventId).toBe('b-1');
  });

  it('ignores an event without data and a field without a value', () => {
    const p = new SseParser();
    expect(p.feed('event: alarm\n\ndata\n\n')).toEqual([{ id: null, event: 'message', data: '' }]);
  });

  it('backs off exponentially from the advised retry, capped at 30 s', () => {
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n))).toEqual([1000, 2000, 4000, 8000]);
    expect(reconnectDelay(10)).toBe(30_000);
    expect(reconnectDelay(0, 3000)).toBe(3000);
  });

  it('reconnects after the stream ends and sends the last event id back', async () => {
    const seen: (string | null)[] = [];
    const events: SseEvent[] = [];
    const bodies = ['retry: 250\nid: a-1\nevent: alarm\ndata: 1\n\n', 'id: a-2\nevent: alarm\ndata: 2\n\n'];
    const done = new Promise<void>((resolve) => {
      const s = followStream({
        open: async (last) => {
          seen.push(last);
          const body = bodies.shift();
          if (body === undefined) {
            s.stop();
            resolve();
            return new Response('', { status: 503 });
          }
          return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
        },
        onEvent: (e) => events.push(e),
      });
    });
    await done;
    expect(events.map((e) => e.data)).toEqual(['1', '2']);
    expect(seen).toEqual([null, 'a-1', 'a-2']);
  });
});

describe('the open alarms in the tab title', () => {
  it('counts them in front of any screen title, replaces an older count, and drops it at zero', () => {
    expect(countedTitle('概览 · 安监所工作台', 2)).toBe('(2) 概览 · 安监所工作台');
    expect(countedTitle('(2) 概览 · 安监所工作台', 3)).toBe('(3) 概览 · 安监所工作台');
    expect(countedTitle('(3) 概览 · 安监所工作台', 0)).toBe('概览 · 安监所工作台');
    expect(countedTitle('(12) Shops (2026)', undefined)).toBe('Shops (2026)');
  });
});

describe('figures', () => {
  it('formats rates and compares with last year (points for rates, percent for counts)', () => {
    expect(pct(0.875)).toBe('87.5%');
    expect(pct(null)).toBe('—');
    expect(change(0.9, 0.6, 'rate')).toEqual({ text: '+30.0 pt (+50%)', sign: 1 });
    expect(change(0.5, 0, 'rate')).toEqual({ text: '+50.0 pt', sign: 1 });
    expect(change(0.5, 0.5, 'rate')).toEqual({ text: '0.0 pt (0%)', sign: 0 });
    expect(change(140, 100, 'count')).toEqual({ text: '+40%', sign: 1 });
    expect(change(3, 0, 'count')).toBeNull();
    expect(change(5, null, 'count')).toBeNull();
  });

  it('puts a ledger note in words: the item, or the kind of document it comes from', async () => {
    const { ledgerNote } = await import('../src/office/shops');
    expect(ledgerNote('escape_route')).toBe('逃生通道不畅');
    expect(ledgerNote('S0001:verification:01M2EVBTH0WYC01X0K4PBK5E5N')).toBe('复查');
    expect(ledgerNote('')).toBe('');
    expect(ledgerNote('a note of the office')).toBe('a note of the office');
  });

  it('shows times in Shanghai, whatever time zone the computer is set to', () => {
    const tz = process.env.TZ;
    try {
      for (const zone of ['UTC', 'America/New_York']) {
        process.env.TZ = zone; // Node applies a new TZ at once
        expect(when('2026-11-28T15:33:44+08:00')).toBe('2026-11-28 15:33');
        expect(when('2026-11-30T16:05:00Z')).toBe('2026-12-01 00:05');
      }
    } finally {
      process.env.TZ = tz;
    }
    expect(when('')).toBe('—');
    expect(when('2026-11-25')).toBe('2026-11-25');
    expect(when('not a time')).toBe('not a time');
  });

  it('knows the month in Shanghai even when UTC is still the day before', () => {
    expect(thisMonth(new Date('2026-11-30T17:00:00Z'))).toBe('2026-12');
  });

  it('reads a breakdown as a list or as an object by code', () => {
    const names = new Map([['c1', '新桥社区']]);
    expect(rowsOf([{ id: 'c1', name: '新桥社区', shops_active: 3 }], names)[0]).toMatchObject({ id: 'c1', shops_active: 3 });
    expect(rowsOf({ c1: { shops_active: 4 } }, names)[0]).toMatchObject({ id: 'c1', name: '新桥社区', shops_active: 4 });
  });
});

describe('charts', () => {
  it('scales a series into the box, breaking the line at gaps', () => {
    const range = yRange([{ label: 'a', values: [0, 0.5, null, 1], cls: 's1' }], 1);
    expect(range).toEqual([0, 1]);
    const segments = linePoints([0, 0.5, null, 1], LINE_BOX, range);
    expect(segments).toHaveLength(2);
    const bottom = LINE_BOX.height - LINE_BOX.pad.bottom;
    expect(segments[0]?.[0]).toEqual([LINE_BOX.pad.left, bottom]);
    expect(segments[1]?.[0]).toEqual([LINE_BOX.width - LINE_BOX.pad.right, LINE_BOX.pad.top]);
  });

  it('rounds the axis up above the data', () => {
    expect(yRange([{ label: 'h', values: [3, 17, 42], cls: 's4' }])).toEqual([0, 50]);
  });

  it('puts whole counts on whole, distinct ticks (a month of one hazard read 0, 0, 1, 1, 1)', () => {
    const ticks = (...values: (number | null)[]) => countTicks([{ label: 'h', values, cls: 's4' }]);
    expect(ticks(0, 1, null, 0, 1)).toEqual([0, 1]);
    expect(ticks(0, 0, 0)).toEqual([0, 1]);
    expect(ticks()).toEqual([0, 1]);
    expect(ticks(2, 3)).toEqual([0, 1, 2, 3]);
    expect(ticks(5)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ticks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(ticks(3, 17, 42)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(ticks(240, 248, 0)).toEqual([0, 50, 100, 150, 200, 250]);
    expect(ticks(1234)).toEqual([0, 500, 1000, 1500]);
    for (const top of [1, 2, 3, 4, 6, 9, 11, 13, 19, 23, 99, 101, 999]) {
      const t = ticks(0, top);
      expect(t.every(Number.isInteger)).toBe(true);
      expect(new Set(t).size).toBe(t.length);
      expect(t[0]).toBe(0);
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(top);
      expect(t.length).toBeLessThanOrEqual(6);
    }
  });
});

describe('office routing and forms', () => {
  it('splits the path after /office into segments and a query', () => {
    expect(parseRest('')).toEqual({ path: [], query: new URLSearchParams() });
    const r = parseRest('/shops/S%200001?x=1');
    expect(r.path).toEqual(['shops', 'S 0001']);
    expect(r.query.get('x')).toBe('1');
  });

  it('names the upload type from the file name', () => {
    expect(contentTypeOf({ name: 'survey.XLSX', type: '' })).toContain('spreadsheetml');
    expect(contentTypeOf({ name: 'survey.csv', type: 'application/vnd.ms-excel' })).toBe('text/csv');
  });

  it("reads the server's validation reason as errors by field", () => {
    expect(fieldErrors('hazard_cost.general: input should be greater than or equal to 0; and 1 more')).toEqual([
      ['hazard_cost.general', 'input should be greater than or equal to 0'],
      ['', 'and 1 more'],
    ]);
  });

  it('says a refused rule in the form\'s words: its name, and the reason in the screen\'s language', () => {
    expect(label('rule', 'hazard_cost.serious')).toBe('严重隐患扣分');
    expect(explainReason('不能超过 10000（less than or equal to 10000）')).toBe('不能大于 10000');
    expect(explainReason('serious ≤ major ≤ general, each at least 1 day')).toBe('须为 严重 ≤ 较大 ≤ 一般，且每项至少 1 天');
    // The three deadlines refused together are named in words too, not by their key (deadline_days).
    expect(label('rule', 'deadline_days')).toBe('隐患整改期限');
    // 专班整治's months are refused at the field to change, in the form's words.
    const window = 'working_group_black_months: 不能超过专班统计窗口的月数（cannot exceed working_group_window_months）';
    expect(fieldErrors(window)).toEqual([
      ['working_group_black_months', '不能超过专班统计窗口的月数（cannot exceed working_group_window_months）'],
    ]);
    expect(fieldReason('working_group_black_months', window.slice(28))).toBe('不能超过专班统计窗口的月数');
    const deadlines = '须为 严重 ≤ 较大 ≤ 一般，且每项至少 1 天（serious ≤ major ≤ general, each at least 1 day）';
    expect(fieldReason('deadline_days', deadlines)).toBe('须为 严重 ≤ 较大 ≤ 一般，且每项至少 1 天');
  });

  it('flattens the rules to one field per number and back', () => {
    const doc = { _id: 'district:rules', version: 3, start_points: 100, hazard_cost: { general: 2, serious: 10 } };
    const flat = flatten(doc);
    expect(flat).toEqual([
      ['start_points', 100],
      ['hazard_cost.general', 2],
      ['hazard_cost.serious', 10],
    ]);
    expect(unflatten(flat)).toEqual({ start_points: 100, hazard_cost: { general: 2, serious: 10 } });
  });
});

describe('office wording', () => {
  it('is Chinese first, in the seed words, with English for every key', () => {
    expect(ot('ranking.title')).toBe('安全生产红黑榜');
    expect(ot('ranking.workingGroup')).toBe('专班整治');
    expect(ot('efile.title')).toBe('安全电子档案');
    expect(label('dept', 'market')).toBe('市场监管');
    expect(label('item', 'unknown_item')).toBe('unknown_item');
    expect(Object.keys(officeEn).sort()).toEqual(Object.keys(officeZh).sort());
  });
});

describe('opening server HTML in a tab', () => {
  it("keeps the server's content security policy as the first tag of the head", async () => {
    const { withPolicy } = await import('../src/office/api');
    expect(withPolicy('<html><head><title>x</title></head></html>', "default-src 'none'")).toBe(
      `<html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"><title>x</title></head></html>`,
    );
    expect(withPolicy('<p>no head</p>', null)).toMatch(/^<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  });
});

describe('the checklist template form', () => {
  it('turns every shipped item into a row and back, keeping what the form does not edit', async () => {
    const { rowOf, itemOf } = await import('../src/office/rules');
    const items = [
      { id: 'open_flame', label_zh: '居住区域是否使用明火', label_en: 'Open flame', answer: 'yes_no', hazard_when: { equals: true },
        severity: 'serious', photo_required: false, points: null },
      { id: 'escape_route', label_zh: '疏散通道是否畅通', label_en: 'Escape route clear', answer: 'yes_no', hazard_when: { equals: false },
        severity: 'major', photo_required: true, points: 4 },
      { id: 'gas_safe', label_zh: '燃气瓶/管道及报警器是否安全', label_en: 'Gas safe', answer: 'yes_no', hazard_when: { equals: false },
        severity: 'serious', photo_required: true, not_applicable: true, points: null },
      { id: 'wiring_ok', label_zh: '电线是否规范', label_en: 'Wiring in order', answer: 'yes_no', hazard_when: { equals: false },
        severity: 'general', photo_required: false, not_applicable: false, points: null, escalate: null },
      { id: 'sleeping_people', label_zh: '店内住宿人数', label_en: 'People sleeping', answer: 'number', hazard_when: { gt: 0 },
        severity: 'major', photo_required: false, points: null, escalate: { when_hazard: ['three_in_one'], severity: 'serious' } },
    ];
    for (const item of items) expect(itemOf(rowOf(item), item)).toEqual(item);
  });

  it('reads a row as the server wants it: trimmed text, numbers as numbers, an empty cost as the rules', async () => {
    const { itemOf } = await import('../src/office/rules');
    const row = { id: ' gas_alarm ', label_zh: ' 燃气报警器 ', label_en: 'Gas alarm', answer: 'number' as const, hazard_if_yes: true,
      gt: '2', severity: 'general', photo_required: false, not_applicable: false, points: '' };
    expect(itemOf(row)).toEqual({ id: 'gas_alarm', label_zh: '燃气报警器', label_en: 'Gas alarm', answer: 'number',
      hazard_when: { gt: 2 }, severity: 'general', photo_required: false, points: null });
    expect(itemOf({ ...row, answer: 'yes_no', hazard_if_yes: false, points: 'x' })).toMatchObject({
      hazard_when: { equals: false }, points: 'x' });  // not a number: the server names the field
  });

  it('keeps the 可答“不适用” box of a yes/no item, and sends none for a number item', async () => {
    const { itemOf, rowOf } = await import('../src/office/rules');
    const gas = { id: 'gas_safe', label_zh: '燃气是否安全', label_en: 'Gas safe', answer: 'yes_no', hazard_when: { equals: false },
      severity: 'serious', photo_required: true, points: null };
    expect(rowOf(gas).not_applicable).toBe(false);
    expect(itemOf({ ...rowOf(gas), not_applicable: true }, gas)).toMatchObject({ not_applicable: true });
    expect(itemOf({ ...rowOf(gas), not_applicable: false }, { ...gas, not_applicable: true })).toMatchObject({ not_applicable: false });
    // Ticked, then made a number item: a number item is answered 0 when nothing applies.
    const counted = itemOf({ ...rowOf(gas), answer: 'number', gt: '0', not_applicable: true }, gas);
    expect(counted).not.toHaveProperty('not_applicable');
    expect(itemOf({ ...rowOf(gas), answer: 'number', gt: '0', not_applicable: true }, { ...gas, not_applicable: true }))
      .toMatchObject({ not_applicable: false });
  });
});

describe('sorting a table by a column', () => {
  const rows = [
    { name: '周明', coverage: 0.5 },
    { name: '蔡静', coverage: null },
    { name: '鲍国平', coverage: 0.875 },
    { name: '李静', coverage: 0.5 },
  ];
  it('orders numbers both ways, keeps equal rows in their order, and puts rows without a value last', () => {
    const up = sortRows(rows, (r) => r.coverage, false).map((r) => r.name);
    const down = sortRows(rows, (r) => r.coverage, true).map((r) => r.name);
    expect(up).toEqual(['周明', '李静', '鲍国平', '蔡静']);
    expect(down).toEqual(['鲍国平', '周明', '李静', '蔡静']);
    expect(rows[0]?.name).toBe('周明'); // the rows given are left as they were
  });
  it('orders Chinese names by their pinyin', () => {
    expect(sortRows(rows, (r) => r.name, false).map((r) => r.name)).toEqual(['鲍国平', '蔡静', '李静', '周明']);
  });
});

describe('exports', () => {
  const range = ['2026-11-01', '2026-11-29', '2026-10'] as const;
  it.each([
    ['checks', 'xlsx', range, '/api/office/exports/checks.xlsx?from=2026-11-01&to=2026-11-29', 'checks-2026-11-01_2026-11-29.xlsx'],
    ['hazards', 'csv', ['', '2026-11-29', '2026-10'], '/api/office/exports/hazards.csv?to=2026-11-29', 'hazards-…_2026-11-29.csv'],
    ['rankings', 'csv', range, '/api/office/exports/rankings.csv?month=2026-10', 'rankings-2026-10.csv'],
    ['shops', 'csv', range, '/api/office/exports/shops.csv', 'shops.csv'],
  ] as const)('asks for %s of the days or month chosen, and names the %s file so', (kind, fmt, [from, to, month], path, name) => {
    expect(exportTarget(kind, fmt, from, to, month)).toEqual([path, name]);
  });
});

describe('a community saved from the registry screen', () => {
  it('names its sub-district only when the district office gave one', () => {
    expect(communityBody('西溪二社区', ' xihu ', null)).toEqual({ name: '西溪二社区', subdistrict: 'xihu' });
    expect(communityBody('西溪二社区', '', null)).toEqual({ name: '西溪二社区' });
    // A sub-district's office is asked nothing: the server puts the community in its own.
    expect(communityBody('西溪二社区', 'minglou', 'xihu')).toEqual({ name: '西溪二社区' });
  });

  const wensan: Community = {
    code: 'wensan',
    name: '文三社区',
    subdistrict: 'minglou',
    shops: 3,
    grids: [
      { code: 'g1', name: '文三一网格', workers: ['zhou'], shops: 2 },
      { code: 'g2', name: '文三二网格', workers: ['li'], shops: 1 },
    ],
  };

  it('is a move, asked for, only when an existing community is given another sub-district', () => {
    expect(moveOf('wensan', ' xihu ', [wensan])).toEqual({ community: '文三社区', from: 'minglou', to: 'xihu', grids: 2, shops: 3 });
    expect(moveOf('wensan', 'minglou', [wensan])).toBeNull(); // its own: a rename
    expect(moveOf('wensan', '', [wensan])).toBeNull(); // none given: a rename
    expect(moveOf('xixi', 'xihu', [wensan])).toBeNull(); // a new community moves nothing
  });
});

describe('the sign-in and account log', () => {
  it('names owners by their shop and staff by their username', () => {
    expect(accountOf('owner:S0001')).toBe('店主 S0001');
    expect(accountOf('staff:zhou')).toBe('zhou');
    expect(accountOf('grid:li')).toBe('li');
    expect(accountOf('office:wang')).toBe('wang');
    expect(accountOf('S0001:shop:S0001')).toBe('店铺 S0001');
    expect(accountOf('registry:community:wensan')).toBe('社区 wensan');
    expect(accountOf('registry:grid:g1')).toBe('网格 g1');
    expect(accountOf('import:01J0')).toBe('导入 01J0');
    expect(accountOf('district:rules')).toBe('积分规则');
    expect(accountOf('district:template:fire-gas')).toBe('检查表 fire-gas');
    expect(accountOf('office:publication:minglou:2026-11')).toBe('红黑榜 minglou 2026-11');
    expect(accountOf('something-else')).toBe('something-else');
  });

  it('says what happened in words, and shows an event it does not know as it came', () => {
    expect(eventOf('login_failed')).toBe('登录失败');
    expect(eventOf('signed_out')).toBe('强制下线');
    expect(eventOf('new_event')).toBe('new_event');
  });

  it('asks for a page, and the one before an entry', () => {
    expect(auditPath(null)).toBe('/api/office/audit?limit=50');
    expect(auditPath('accounts:audit:01J0')).toBe('/api/office/audit?limit=50&before=accounts%3Aaudit%3A01J0');
  });

  it('asks on through answers with few of the office\'s entries until a page is full or the log ends', async () => {
    const entry = (n: number) => ({ _id: `accounts:audit:${n}`, event: 'login_failed', account: 'staff:x' });
    // A sub-district's entries are sparse: the server answers 0, 1, 0, then 30 of them, then the end.
    const answers = [[], [entry(1)], [], Array.from({ length: 60 }, (_, i) => entry(10 + i)), [entry(99)]];
    const asked: string[] = [];
    const ask = async (path: string) => {
      asked.push(path);
      const limit = Number(new URL(path, 'http://x').searchParams.get('limit'));
      const i = asked.length - 1;
      return { items: (answers[i] ?? []).slice(0, limit), next: i < answers.length - 1 ? `c${i}` : null };
    };
    const page = await auditPage(ask, null);
    expect(page.items).toHaveLength(50);
    expect(page.next).toBe('c3');
    expect(asked).toEqual([
      '/api/office/audit?limit=50',
      '/api/office/audit?limit=50&before=c0',
      '/api/office/audit?limit=49&before=c1',
      '/api/office/audit?limit=49&before=c2',
    ]);
    // An empty log ends at once; a log of nothing but other offices' entries stops after CURSOR_ASKS answers.
    expect(await auditPage(async () => ({ items: [], next: null }), null)).toEqual({ items: [], next: null });
    let n = 0;
    const endless = await auditPage(async () => ({ items: [], next: `c${++n}` }), null);
    expect(endless).toEqual({ items: [], next: 'c10' });
  });
});

describe('the sync monitor on backups', () => {
  it('warns when the embedded store was never backed up, or not for two days, and says nothing on CouchDB', async () => {
    const { backupLine } = await import('../src/office/syncmon');
    expect(backupLine({ kind: 'couchdb' })).toBeNull();
    expect(backupLine(undefined)).toBeNull();
    expect(backupLine({ kind: 'sqlite', last: null, stale: true })).toEqual({ text: expect.stringContaining('尚未备份'), warn: true });
    const last = { created_at: '2026-11-29T02:00:00+00:00', documents: 1200, blobs: 30, bytes: 1 };
    const fresh = backupLine({ kind: 'sqlite', last, stale: false });
    expect(fresh?.warn).toBe(false);
    expect(fresh?.text).toContain('1200 条文档，30 张照片');
    expect(backupLine({ kind: 'sqlite', last, stale: true })?.text).toContain('已超过 2 天');
  });

  it('says the gateway backs up on its own, and warns when its last backup failed', async () => {
    const { backupLine } = await import('../src/office/syncmon');
    const first = backupLine({ kind: 'sqlite', last: null, stale: true, every_hours: 24, failed: null });
    expect(first).toEqual({ text: expect.stringContaining('自动备份已开启（每 24 小时一次），第一次备份尚未完成'), warn: true });
    const last = { created_at: '2026-11-29T02:00:00+00:00', documents: 1200, blobs: 30, bytes: 1 };
    const fine = backupLine({ kind: 'sqlite', last, stale: false, every_hours: 24, failed: null });
    expect(fine?.warn).toBe(false);
    expect(fine?.text).toContain('自动备份：每 24 小时一次');
    const failed = { at: '2026-11-30T02:00:00+00:00', error: '[Errno 28] No space left on device' };
    const broken = backupLine({ kind: 'sqlite', last, stale: false, every_hours: 24, failed });
    expect(broken?.warn).toBe(true);
    expect(broken?.text).toMatch(/^最近一次自动备份失败（.+）：\[Errno 28\] No space left on device。/);
    expect(broken?.text).toContain('1200 条文档');
    const weekly = backupLine({ kind: 'sqlite', last, stale: true, stale_after_days: 14, every_hours: 168 });
    expect(weekly?.text).toContain('已超过 14 天');
  });
});

describe('rules refusals', () => {
  it('are said in Chinese when they are the common ones, and as written otherwise', () => {
    expect(explainReason('input should be greater than or equal to 0')).toBe('不能小于 0');
    expect(explainReason('at least 1 point (at 0 every submission that costs a point raises an alarm)')).toContain('至少 1 分');
    expect(explainReason("'Asia/Beijing' is not a time zone such as Asia/Shanghai")).toContain('时区');
    expect(explainReason('must be a date such as 2026-12-05')).toBe('须为日期，如 2026-12-05');
    expect(explainReason('something new')).toBe('something new');
  });
});
