// The district's rules (`district:rules`, server/models/rules.py) as the phone applies them before the server has seen
// a patrol: the version in force on a day, and the alarm rule (server/validators/rules.py `hazard_cost`,
// `raises_alarm`; projections.py `_patrol`). Pure, no database: tested in pwa/tests/grid-alarm-rule.test.ts, and held to
// the server's rule by the cases both sides run (tests/fixtures/alarm_cases.json). The phone never writes an alarm: it
// only says, on an offline day (and on the patrol form, before it is submitted), which patrol will raise one.
import type { AnswerValue, RulesDoc, RulesVersion, Severity, TemplateDoc, TemplateItem } from './docs';
import { isHazard, NOT_APPLICABLE } from '../items';

/** What the phone holds of the `district` partition that a patrol's alarm depends on: every version of the rules and
 *  every template (current and frozen). `key` changes when any of them does (the list works its shops out again). */
export interface District {
  key: string;
  rules: readonly RulesVersion[];
  templates: readonly TemplateDoc[];
}

/** Before the district's documents have reached the phone: SPEC's defaults, no template. */
export const NO_DISTRICT: District = { key: '', rules: [], templates: [] };

/** SPEC's defaults ("Points and alarms"), used until the district's rules document has reached the phone. */
const DEFAULT_HAZARD_COST: Record<Severity, number> = { general: 2, major: 5, serious: 10 };
const DEFAULT_FALSE_REPORT_COST = 3;
const DEFAULT_ALARM_THRESHOLD = 10;
const DEFAULT_PATROL_CLEAN_POINTS = 5;

/** The version of the rules in force on `day` (YYYY-MM-DD, Shanghai), as the server picks it
 *  (server/validators/rules.py `RulesHistory.on`): each version is in force from its `effective_from` until a later
 *  version's, a version published later replacing every earlier one from its own day on, and before the first
 *  day the first applies. So a patrol today takes today's deadlines, not those of a current version the office
 *  published to apply from a later day. Null when the phone holds no rules yet (SPEC's defaults then). */
export function rulesOn(versions: readonly RulesVersion[], day: string): RulesDoc | null {
  const byVersion = new Map<number, RulesVersion>();
  const current = versions.find((r) => r._id === 'district:rules') ?? null;
  for (const rules of versions) {
    if (rules === current) continue;
    if (typeof rules.version === 'number') byVersion.set(rules.version, rules);
  }
  // The current document wins over a frozen copy of its own version.
  if (current) byVersion.set(typeof current.version === 'number' ? current.version : Number.MAX_SAFE_INTEGER, current);
  let spans: [string, RulesVersion][] = [];
  for (const version of [...byVersion.keys()].sort((a, b) => a - b)) {
    const rules = byVersion.get(version)!;
    const start = typeof rules.effective_from === 'string' ? rules.effective_from : '';
    spans = [...spans.filter(([from]) => from < start), [start, rules]];
  }
  if (spans.length === 0) return null;
  const inForce = spans.filter(([from]) => from <= day).at(-1) ?? spans[0]!;
  return inForce[1];
}

/** The template version an event names, as the server looks it up: that version only (current or frozen copy). */
export function templateVersion(templates: readonly TemplateDoc[], id: string, version: number): TemplateDoc | null {
  return templates.find((t) => t._id === `${id}:v${version}` || (t._id === id && t.version === version)) ?? null;
}

function count(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : fallback;
}

/** The points a patrol's finding costs: by its severity, or its item's own `points` when the finding keeps the item's
 *  severity (the worker who changed it took the cost of the severity chosen). */
export function hazardCost(rules: RulesDoc | null, severity: Severity, item: TemplateItem | null): number {
  const cost = count(rules?.hazard_cost?.[severity], DEFAULT_HAZARD_COST[severity]);
  return item && typeof item.points === 'number' && item.points > 0 && item.severity === severity ? item.points : cost;
}

/** The extra a finding costs when the shop's latest self-check declared its item in order (the −3). */
export function falseReportCost(rules: RulesDoc | null): number {
  return count(rules?.false_self_report_cost, DEFAULT_FALSE_REPORT_COST);
}

/** Whether a self-check's answer `value` to `item` declared it in order (server `_declared_in_order`): a "safe"
 *  answer, or 不适用 where the item takes it; an answer that does not fit the item declares nothing. */
export function declaredInOrder(item: TemplateItem | null, value: AnswerValue | undefined): boolean {
  if (!item || value === undefined) return false;
  if (value === NOT_APPLICABLE) return item.not_applicable === true;
  if ((typeof value === 'boolean') !== (item.answer === 'yes_no') || (typeof value === 'number' && value < 0)) return false;
  return !isHazard(item, value);
}

/** What a clean patrol earns (server/validators/rules.py `patrol_clean_points`): the server gives it once per shop and
 *  day, to the day's first patrol, and takes it back when another patrol of that day finds a new hazard
 *  (projections.py `_visit`). */
export function patrolCleanPoints(rules: RulesDoc | null): number {
  return count(rules?.patrol_clean_points, DEFAULT_PATROL_CLEAN_POINTS);
}

/** One submission's deductions reaching this raise an alarm at once. */
export function alarmThreshold(rules: RulesDoc | null): number {
  return count(rules?.alarm_threshold, DEFAULT_ALARM_THRESHOLD);
}

/** Why a submission raises an alarm, as the worker is told: a serious item found (where the rules alarm on one), else
 *  its deductions reaching the threshold. */
export type AlarmReason = 'serious' | 'threshold';

/** At once, when one submission's deductions (`cost`) reach the threshold or any serious item is found (server
 *  `raises_alarm`): why, or null when it raises none. */
export function alarmReason(rules: RulesDoc | null, cost: number, severities: readonly Severity[]): AlarmReason | null {
  if (rules?.alarm_on_serious !== false && severities.includes('serious')) return 'serious';
  return cost > 0 && cost >= alarmThreshold(rules) ? 'threshold' : null;
}
