// The alarm rule's shared cases (tests/fixtures/alarm_cases.json) on the phone's mirror of it (../src/grid/due.ts
// `pendingVisits`, `pendingAlarms`; ../src/grid/rules.ts): the server runs the same file on its own projection
// (tests/validators/test_alarm_cases.py), so a change to the server's rule that the phone does not follow fails here.
import { describe, expect, it } from 'vitest';
import type { AnswerValue, Doc, HazardDoc, PatrolDoc, RulesVersion, SelfCheckDoc, Severity, TemplateDoc } from '../src/grid/docs';
import { addDays, dayOf, groupByShop, pendingAlarms, pendingVisits, type ShopFile } from '../src/grid/due';
import type { District } from '../src/grid/rules';
import casesJson from '../../tests/fixtures/alarm_cases.json?raw';
import rulesJson from '../../server/models/data/rules.json?raw';
import templateJson from '../../server/models/data/template-fire-gas.json?raw';
import foodJson from '../../server/office/modules/food-safety.json?raw';
import { shop } from './grid-fixtures';

interface CasePatrol {
  id: string;
  performed_at?: string;
  template?: string;
  uploaded?: boolean;
  findings: { id?: string; item: string; severity: Severity }[];
}

interface Case {
  case: string;
  rules?: Partial<RulesVersion>[];
  points?: Record<string, number>;
  self_checks?: { id: string; performed_at: string; template: string; answers: Record<string, AnswerValue> }[];
  earlier?: CasePatrol[];
  visit: { performed_at: string; patrols: CasePatrol[] };
  expected: { alarm: boolean; deductions: number; items: string[] };
}

const CASES = (JSON.parse(casesJson) as { cases: Case[] }).cases;
const V1 = JSON.parse(rulesJson) as RulesVersion;
const FIRE = JSON.parse(templateJson) as TemplateDoc;
const FOOD = JSON.parse(foodJson) as TemplateDoc;
const SHOP = 'S0001';

function district(c: Case): District {
  const changes = c.rules ?? [{}];
  const rules = changes.map((change, i): RulesVersion => {
    const version = { ...V1, ...change };
    return i === changes.length - 1 ? version : { ...version, _id: `district:rules:v${version.version}` };
  });
  const points = c.points ?? {};
  const fire = { ...FIRE, items: FIRE.items.map((i) => (i.id in points ? { ...i, points: points[i.id] } : i)) };
  return { key: c.case, rules, templates: [fire, FOOD] };
}

function patrol(p: CasePatrol, at: string): PatrolDoc {
  const deadline = addDays(dayOf(at), 7);
  return {
    _id: `${SHOP}:patrol:${p.id}`,
    type: 'patrol',
    shop: SHOP,
    performed_at: at,
    created_by: 'grid:zhou01',
    device: 'd-1',
    template: p.template ?? FIRE._id,
    template_version: 1,
    answers: {},
    findings: p.findings.map((f) => ({ id: f.id ?? f.item, item: f.item, severity: f.severity, deadline })),
  };
}

/** What the grid worker's phone holds: the owner's self-checks (from the server), the earlier patrols (with the
 *  hazards the server sent back for those it has projected) and the visit's patrols, waiting to upload. */
function file(c: Case): ShopFile {
  const docs: Doc[] = [shop(SHOP)];
  for (const check of c.self_checks ?? []) {
    const answers = Object.fromEntries(Object.entries(check.answers).map(([item, value]) => [item, { value }]));
    const doc: SelfCheckDoc = {
      _id: `${SHOP}:self_check:${check.id}`,
      type: 'self_check',
      shop: SHOP,
      performed_at: check.performed_at,
      created_by: `owner:${SHOP}`,
      device: 'd-2',
      template: check.template,
      template_version: 1,
      answers,
    };
    docs.push(doc);
  }
  for (const earlier of c.earlier ?? []) {
    const doc = patrol(earlier, earlier.performed_at!);
    docs.push(doc);
    if (!earlier.uploaded) continue;
    for (const f of doc.findings ?? []) {
      const hazard: HazardDoc = {
        _id: `${SHOP}:hazard:${earlier.id}-${f.id}`,
        type: 'hazard',
        shop: SHOP,
        status: 'open',
        source: doc._id,
        item: f.item,
        finding: f.id,
        severity: f.severity,
        self_reported: false,
        found_at: doc.performed_at,
        deadline: f.deadline,
        cost: 0,
      };
      docs.push(hazard);
    }
  }
  docs.push(...c.visit.patrols.map((p) => patrol(p, c.visit.performed_at)));
  return groupByShop(docs).get(SHOP)!;
}

describe('the alarm rule on the phone, case by case as on the server', () => {
  it.each(CASES.map((c) => [c.case, c] as const))('%s', (_, c) => {
    const ids = c.visit.patrols.map((p) => `${SHOP}:patrol:${p.id}`);
    const ofVisit = (patrols: string[]): boolean => patrols.some((id) => ids.includes(id));
    const visit = pendingVisits(file(c), district(c)).find((v) => ofVisit(v.patrols));
    expect({
      alarm: visit?.alarm != null,
      deductions: visit?.cost ?? 0,
      items: (visit?.items.map((i) => i.item) ?? []).sort(),
    }).toEqual({ ...c.expected, items: [...c.expected.items].sort() });
    // The list and the e-file say 报警待上传 exactly then.
    expect(pendingAlarms(file(c), district(c)).filter((a) => ofVisit(a.patrols))).toHaveLength(c.expected.alarm ? 1 : 0);
  });
});
