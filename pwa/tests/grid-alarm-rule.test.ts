// The alarm a patrol saved on the phone will raise, by the server's rule (server/validators/rules.py `raises_alarm`,
// projections.py `_patrol`): any serious finding, or the visit's deductions reaching the threshold of the rules in
// force on its day, each finding costing its severity's points or its item's own. Until the server's alarm named after
// the patrol comes back, the shop's file says so (../src/grid/due.ts `pendingAlarms`); the phone writes none.
import { describe, expect, it } from 'vitest';
import type { AlarmDoc, Doc, Finding, HazardDoc, PatrolDoc, RulesVersion, SelfCheckDoc, TemplateDoc } from '../src/grid/docs';
import { dueAt, filterDues, groupByShop, pendingAlarms, type ShopFile } from '../src/grid/due';
import { NO_DISTRICT, type District } from '../src/grid/rules';
import rulesJson from '../../server/models/data/rules.json?raw';
import templateJson from '../../server/models/data/template-fire-gas.json?raw';
import { shop } from './grid-fixtures';

// Saturday 2026-11-28, 10:00 in Shanghai.
const NOW = new Date('2026-11-28T02:00:00Z');
const V1 = JSON.parse(rulesJson) as RulesVersion; // from 2026-01-01: threshold 10; general 2, major 5, serious 10
const TEMPLATE = JSON.parse(templateJson) as TemplateDoc;

function district(rules: RulesVersion[] = [V1], templates: TemplateDoc[] = [TEMPLATE]): District {
  return { key: 'k', rules, templates };
}

const ULID = '01M7YN07V8XQJ7JEF02Y1DNS10';
const AT = '2026-11-28T09:30:00+08:00';

function finding(item: string, severity: Finding['severity']): Finding {
  return { id: item, item, severity, deadline: '2026-12-05' };
}

function patrol(findings: Finding[], ulid = ULID, extra: Partial<PatrolDoc> = {}): PatrolDoc {
  return {
    _id: `S0001:patrol:${ulid}`,
    type: 'patrol',
    shop: 'S0001',
    performed_at: AT,
    created_by: 'grid:zhou01',
    device: 'd-1',
    template: 'district:template:fire-gas',
    template_version: 1,
    answers: {},
    findings,
    ...extra,
  };
}

function file(...docs: Doc[]): ShopFile {
  return groupByShop([shop('S0001'), ...docs]).get('S0001')!;
}

function serverAlarm(ulid: string): AlarmDoc {
  return {
    _id: `S0001:alarm:${ulid}`,
    type: 'alarm',
    shop: 'S0001',
    status: 'open',
    source: `S0001:patrol:${ulid}`,
    items: [],
    cost: 10,
    created_at: AT,
  };
}

const alarmed = (f: ShopFile, d: District = district()): string[][] => pendingAlarms(f, d).map((a) => a.items.map((i) => i.item));

describe("a patrol's alarm before the server has it", () => {
  it('is raised by a serious finding, and shown as one to upload (first in the list) until the server answers it', () => {
    const saved = file(patrol([finding('open_flame', 'serious')]));
    expect(pendingAlarms(saved, district())).toEqual([
      {
        patrols: [`S0001:patrol:${ULID}`],
        performed_at: AT,
        items: [
          { item: 'open_flame', severity: 'serious', hazard: `S0001:hazard:${ULID}-open_flame`, patrol: `S0001:patrol:${ULID}` },
        ],
        cost: 10,
      },
    ]);
    const due = dueAt(saved, NOW, district());
    expect(due).toMatchObject({ pendingAlarms: 1, openAlarms: 0 });
    expect(due.urgency).toBeGreaterThanOrEqual(1000); // with the alarms
    expect(filterDues([due], 'problems')).toHaveLength(1);
    // Before the district's documents reach the phone, SPEC's rule: a serious finding alarms.
    expect(alarmed(saved, NO_DISTRICT)).toEqual([['open_flame']]);

    // The server's alarm, named after the patrol, takes its place; one named after another patrol does not.
    expect(alarmed(file(patrol([finding('open_flame', 'serious')]), serverAlarm('01M7YN07V8XQJ7JEF02Y1DNS00')))).toHaveLength(1);
    const answered = file(patrol([finding('open_flame', 'serious')]), serverAlarm(ULID));
    expect(alarmed(answered)).toEqual([]);
    expect(dueAt(answered, NOW, district())).toMatchObject({ pendingAlarms: 0, openAlarms: 1 });
  });

  it('is raised when the deductions reach the threshold of the rules in force on the patrol’s day, not below', () => {
    // A major (5) and a general (2) finding: 7 points, under SPEC's 10.
    const seven = file(patrol([finding('escape_route', 'major'), finding('wiring_ok', 'general')]));
    expect(alarmed(seven)).toEqual([]);
    expect(dueAt(seven, NOW, district())).toMatchObject({ pendingAlarms: 0, openHazards: 2 });
    // The office lowered the threshold to 7 from 2026-11-20: it alarms.
    const v2 = { ...V1, _id: 'district:rules', version: 2, effective_from: '2026-11-20', alarm_threshold: 7 };
    const lowered = district([{ ...V1, _id: 'district:rules:v1' }, v2]);
    expect(alarmed(seven, lowered)).toEqual([['escape_route', 'wiring_ok']]);
    // ... but a version applying only from next month leaves today's patrol to version 1.
    const later = district([{ ...V1, _id: 'district:rules:v1' }, { ...v2, effective_from: '2026-12-01' }]);
    expect(alarmed(seven, later)).toEqual([]);
    // Two majors reach 10 under version 1 (costs add up across the visit's modules, one patrol each).
    const food = patrol([finding('rcd_installed', 'major')], '01M7YN07V8XQJ7JEF02Y1DNS11');
    expect(alarmed(file(patrol([finding('escape_route', 'major')]), food))).toEqual([['escape_route', 'rcd_installed']]);
    // The server names the visit's alarm after one of its patrols: the other's is answered too.
    expect(alarmed(file(patrol([finding('escape_route', 'major')]), food, serverAlarm('01M7YN07V8XQJ7JEF02Y1DNS11')))).toEqual([]);
    // Another visit (another time) is another submission: 5 each, no alarm.
    const apart = { ...food, performed_at: '2026-11-28T15:00:00+08:00' };
    expect(alarmed(file(patrol([finding('escape_route', 'major')]), apart))).toEqual([]);
  });

  it("costs an item's own points when the finding keeps the item's severity, and the severity's when changed", () => {
    const own: TemplateDoc = {
      ...TEMPLATE,
      items: TEMPLATE.items.map((i) => (i.id === 'escape_route' ? { ...i, points: 10 } : i)),
    };
    const blocked = file(patrol([finding('escape_route', 'major')]));
    expect(alarmed(blocked, district([V1], [own]))).toEqual([['escape_route']]);
    expect(alarmed(blocked)).toEqual([]); // the template as shipped: 5 points
    // The worker called it general: the rules' 2 points, not the item's 10.
    expect(alarmed(file(patrol([finding('escape_route', 'general')])), district([V1], [own]))).toEqual([]);
    // A worker who raised a major item to serious raises an alarm.
    expect(alarmed(file(patrol([finding('escape_route', 'serious')])))).toEqual([['escape_route']]);
    // Another template version than the patrol's: its points do not apply (the server reads the patrol's version).
    expect(alarmed(blocked, district([V1], [{ ...own, version: 2 }]))).toEqual([]);
  });

  it("adds the −3 of an item the owner's latest self-check declared in order", () => {
    const check = (n: number, at: string, answers: SelfCheckDoc['answers'], template = 'district:template:fire-gas'): SelfCheckDoc => ({
      _id: `S0001:self_check:01M7YN07V8XQJ7JEF02Y1DNS0${n}`,
      type: 'self_check',
      shop: 'S0001',
      performed_at: at,
      created_by: 'owner:S0001',
      device: 'd-2',
      template,
      template_version: 1,
      answers,
    });
    const inOrder = { escape_route: { value: true }, wiring_ok: { value: true }, extinguisher_valid: { value: 'na' as const } };
    const before = check(1, '2026-11-27T10:00:00+08:00', inOrder);
    // 5 + 2 found, both declared in order the day before: 5 + 3 + 2 + 3 = 13.
    const found = patrol([finding('escape_route', 'major'), finding('wiring_ok', 'general')]);
    expect(pendingAlarms(file(found, before), district())[0]?.cost).toBe(13);
    // The latest self-check before the patrol is another module's, which declares neither: 7.
    const food = check(2, '2026-11-27T18:00:00+08:00', { food_ok: { value: true } }, 'district:template:food');
    expect(alarmed(file(found, before, food))).toEqual([]);
    // A self-check after the patrol declares nothing about it.
    expect(alarmed(file(found, check(3, '2026-11-28T12:00:00+08:00', inOrder)))).toEqual([]);
    // 不适用 (no extinguisher) declares the item in order where the item takes it: 2 + 3 + 5 = 10.
    const noExtinguisher = patrol([finding('extinguisher_valid', 'general'), finding('escape_route', 'major')]);
    expect(alarmed(file(noExtinguisher, check(4, '2026-11-27T10:00:00+08:00', { extinguisher_valid: { value: 'na' } })))).toEqual([
      ['extinguisher_valid', 'escape_route'],
    ]);
  });

  it('is none for an item whose hazard is still open: found again, not a new hazard', () => {
    const open: HazardDoc = {
      _id: 'S0001:hazard:01M7YN07V8XQJ7JEF02Y1DNS01-open_flame',
      type: 'hazard',
      shop: 'S0001',
      status: 'open',
      source: 'S0001:patrol:01M7YN07V8XQJ7JEF02Y1DNS01',
      item: 'open_flame',
      severity: 'serious',
      self_reported: false,
      found_at: '2026-11-20T10:00:00+08:00',
      deadline: '2026-11-30',
      cost: 10,
    };
    expect(alarmed(file(patrol([finding('open_flame', 'serious')]), open))).toEqual([]);
    // The server has the patrol (its hazard is back): nothing pending, whatever the alarm.
    const projected = { ...open, _id: `S0001:hazard:${ULID}-open_flame`, source: `S0001:patrol:${ULID}`, found_at: AT };
    expect(alarmed(file(patrol([finding('open_flame', 'serious')]), projected))).toEqual([]);
  });

  it("is still to come while the server's hazards of the patrol name it and it has not come down", () => {
    // A CouchDB cluster sends the documents of one write in no promised order: the hazards before the alarm.
    const modules = [patrol([finding('escape_route', 'major')]), patrol([finding('rcd_installed', 'major')], '01M7YN07V8XQJ7JEF02Y1DNS11')];
    const back = (p: PatrolDoc, alarm: string | null | undefined): HazardDoc => ({
      _id: `S0001:hazard:${p._id.split(':')[2]}-${p.findings![0]!.id}`,
      type: 'hazard',
      shop: 'S0001',
      status: 'open',
      source: p._id,
      ...(alarm === undefined ? {} : { alarm }),
      item: p.findings![0]!.item,
      severity: 'major',
      self_reported: false,
      found_at: AT,
      deadline: '2026-12-05',
      cost: 5,
    });
    const named = `S0001:alarm:${ULID}`;
    const waiting = file(...modules, ...modules.map((p) => back(p, named)));
    expect(pendingAlarms(waiting, district())).toEqual([
      {
        patrols: modules.map((p) => p._id),
        performed_at: AT,
        items: modules.map((p) => ({ item: p.findings![0]!.item, severity: 'major', hazard: back(p, named)._id, patrol: p._id })),
        cost: 10,
      },
    ]);
    expect(dueAt(waiting, NOW, district())).toMatchObject({ pendingAlarms: 1, openAlarms: 0 });
    // The server's word, whatever the phone's rules say (a threshold of 15 here: two majors would raise none).
    expect(alarmed(waiting, district([{ ...V1, alarm_threshold: 15 }]))).toEqual([['escape_route', 'rcd_installed']]);
    // Come down, it takes their place.
    expect(dueAt(file(...modules, ...modules.map((p) => back(p, named)), serverAlarm(ULID)), NOW, district())).toMatchObject({
      pendingAlarms: 0,
      openAlarms: 1,
    });
    // Hazards saying the server raised none, or from a server that did not say (as before): nothing to come.
    expect(alarmed(file(...modules, ...modules.map((p) => back(p, null))))).toEqual([]);
    expect(alarmed(file(...modules, ...modules.map((p) => back(p, undefined))))).toEqual([]);
    // A self-check's hazard naming its alarm is no patrol's: the phone promises none for it.
    const own = { ...back(modules[0]!, named), source: `S0001:self_check:${ULID}`, self_reported: true };
    expect(alarmed(file(own))).toEqual([]);
  });
});
