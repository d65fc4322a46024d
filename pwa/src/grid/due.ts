// What is due at each of a grid worker's shops, and which shop to walk to first. Pure (tested in
// pwa/tests/grid-due.test.ts): it reads documents, never the database or the clock.
import type {
  AlarmDoc,
  Doc,
  HazardDoc,
  HazardStatus,
  PatrolDoc,
  RectificationDoc,
  ScoreDoc,
  SelfCheckDoc,
  Severity,
  ShopDoc,
  VerificationDoc,
} from './docs';
import { OTHER_ITEM, splitId } from './docs';
import {
  alarmReason,
  alarmThreshold,
  declaredInOrder,
  falseReportCost,
  hazardCost,
  NO_DISTRICT,
  rulesOn,
  templateVersion,
  type AlarmReason,
  type District,
} from './rules';
import { namesHazard } from '../owner-hazards';
import { addDays, dayOf, isoWeek, monthBefore, shanghaiDay } from '../ulid';

export { addDays, dayOf }; // the grid's screens and tests take them from here


/** The ISO week (`2026-W48`) of a Shanghai day. */
export function weekOfDay(day: string): string {
  return isoWeek(Date.parse(`${day}T12:00:00+08:00`));
}


/** Everything the local database holds about one shop, sorted by type. */
export interface ShopFile {
  shop: ShopDoc;
  score: ScoreDoc | null;
  selfChecks: SelfCheckDoc[]; // newest first
  patrols: PatrolDoc[]; // newest first
  hazards: HazardDoc[]; // newest first
  alarms: AlarmDoc[]; // newest first
  others: Doc[]; // rectifications, verifications, photos, ledger entries …
}

function newestFirst<T extends { performed_at?: string; found_at?: string; created_at?: string }>(docs: T[]): T[] {
  const at = (d: T): number => Date.parse(d.performed_at ?? d.found_at ?? d.created_at ?? '') || 0;
  return docs.sort((a, b) => at(b) - at(a));
}

/** `file` without the events the server refused: a refused patrol is no visit, and finds no hazard, though the phone
 *  keeps it (and the e-file shows it, marked 被拒收) until the office has it from the export. */
export function withoutRefused(file: ShopFile, refused: ReadonlySet<string>): ShopFile {
  if (refused.size === 0) return file;
  // The same file when none of its events was refused: what is due at it is then not worked out again (../list).
  const mentioned = (docs: Doc[]): boolean => docs.some((d) => refused.has(d._id));
  if (!mentioned(file.selfChecks) && !mentioned(file.patrols) && !mentioned(file.others)) return file;
  const keep = <T extends Doc>(docs: T[]): T[] => docs.filter((d) => !refused.has(d._id));
  return { ...file, selfChecks: keep(file.selfChecks), patrols: keep(file.patrols), others: keep(file.others) };
}

/** Group the documents of a scope (any order, any shops) into one file per shop that has a shop document. */
export function groupByShop(docs: Doc[]): Map<string, ShopFile> {
  const files = new Map<string, ShopFile>();
  const loose = new Map<string, Doc[]>();
  for (const doc of docs) {
    const [partition, type] = splitId(doc._id);
    if (type === 'shop' && doc.type === 'shop') {
      files.set(partition, {
        shop: doc as ShopDoc,
        score: null,
        selfChecks: [],
        patrols: [],
        hazards: [],
        alarms: [],
        others: [],
      });
    } else {
      const list = loose.get(partition) ?? [];
      list.push(doc);
      loose.set(partition, list);
    }
  }
  for (const [code, file] of files) {
    for (const doc of loose.get(code) ?? []) {
      if (doc.type === 'score') file.score = doc as ScoreDoc;
      else if (doc.type === 'self_check') file.selfChecks.push(doc as SelfCheckDoc);
      else if (doc.type === 'patrol') file.patrols.push(doc as PatrolDoc);
      else if (doc.type === 'hazard') file.hazards.push(doc as HazardDoc);
      else if (doc.type === 'alarm') file.alarms.push(doc as AlarmDoc);
      else file.others.push(doc);
    }
    newestFirst(file.selfChecks);
    newestFirst(file.patrols);
    newestFirst(file.hazards);
    newestFirst(file.alarms);
  }
  return files;
}

/** The id of the hazard a patrol's finding is, as the server names it (server/validators/projections.py `_hazard`). */
function findingHazardId(file: ShopFile, patrol: PatrolDoc, finding: string): string {
  return `${file.shop.code}:hazard:${splitId(patrol._id)[2]}-${finding}`;
}

/** The hazard ids the server's projection on the phone names: its hazards', and those of the findings it merged into
 *  one (`aliases`: found again while that hazard was unresolved, as the server saw it). */
function serverHazardIds(file: ShopFile): Set<string> {
  return new Set(file.hazards.flatMap((h) => [h._id, ...(h.aliases ?? [])]));
}

/**
 * Whether the server's projection of the patrols `ids` is on the phone: each finding of theirs is a hazard the server
 * sent back, or named by one it merged the finding into. False while one of the patrols is not on the phone, or none
 * of them found anything (then nothing tells).
 */
export function projected(file: ShopFile, ids: readonly string[]): boolean {
  const patrols = ids.map((id) => file.patrols.find((p) => p._id === id));
  if (patrols.some((p) => !p) || !patrols.some((p) => p?.findings?.length)) return false;
  const known = serverHazardIds(file);
  return patrols.every((p) => (p!.findings ?? []).every((f) => known.has(findingHazardId(file, p!, f.id))));
}

/**
 * The alarm the server says the patrols `ids` (one submission) raised: named by one of their hazards on the phone
 * (`alarm`), whether that alarm is here yet or not; null while none of them names one. A CouchDB cluster sends the
 * documents of one write in no promised order: the hazards may come before the alarm, and say that it comes.
 */
function alarmNamed(file: ShopFile, ids: readonly string[]): string | null {
  const sources = new Set(ids);
  return file.hazards.find((h) => sources.has(h.source) && h.alarm)?.alarm ?? null;
}

/**
 * Whether the server says the patrols `ids` raised no alarm: its projection of them is here (`projected`) and none of
 * their hazards names one; a finding merged into an older hazard adds none of theirs (that hazard's alarm is its own
 * source's), and a hazard projected before the server said (no `alarm` at all) names none, as it was taken before.
 */
export function raisedNone(file: ShopFile, ids: readonly string[]): boolean {
  return projected(file, ids) && alarmNamed(file, ids) === null;
}

/**
 * The hazards this device's patrols found that the server has not sent back yet (the patrol is still waiting to
 * upload, or the server is projecting it): shown at once, marked provisional, so an offline day adds up. A finding
 * the server takes as a hazard it already had is none: see `foundAgain`, and once the server's projection is here, the
 * hazard that names it (`aliases`), whatever this phone made of it.
 */
export function provisionalHazards(file: ShopFile): HazardDoc[] {
  const known = serverHazardIds(file);
  // The hazards as the server will have them: a fix this phone passed closes its hazard at the verdict, so the
  // item found wrong on a later patrol is a new hazard (the patrol form records it: `stillOpen`).
  let asServerWill: HazardDoc[] | null = null;
  const closedByVerdict = (h: HazardDoc): HazardDoc => {
    const verdict = pendingVerdict(file, h);
    return verdict?.passed ? { ...h, status: 'closed', closed_at: verdict.performed_at } : h;
  };
  const found: HazardDoc[] = [];
  for (const patrol of file.patrols) {
    for (const finding of patrol.findings ?? []) {
      const id = findingHazardId(file, patrol, finding.id);
      if (known.has(id)) continue;
      asServerWill ??= file.hazards.map(closedByVerdict);
      if (foundAgain(asServerWill, patrol.performed_at, finding.item)) continue;
      found.push({
        _id: id,
        type: 'hazard',
        shop: file.shop.code,
        status: 'open',
        source: patrol._id,
        item: finding.item,
        finding: finding.id,
        severity: finding.severity,
        self_reported: false,
        found_at: patrol.performed_at,
        deadline: finding.deadline,
        cost: 0,
        note: finding.note ?? '',
        photos: finding.photos ?? [],
        provisional: true,
      });
    }
  }
  return found;
}

/**
 * The server's rule for a finding on an item whose hazard, found earlier, was not closed by the patrol's time: it is
 * that hazard found again, not a new one (the finding's own hazard id is deleted if the server had it: the owner's
 * older self-check declaring the item arrived after the patrol). A finding on no item (`other`) is always new.
 */
export function foundAgain(hazards: readonly HazardDoc[], at: string, item: string): boolean {
  if (item === OTHER_ITEM) return false;
  const when = Date.parse(at);
  return hazards.some(
    (h) =>
      h.item === item &&
      Date.parse(h.found_at) <= when &&
      (h.status !== 'closed' || (h.closed_at != null && Date.parse(h.closed_at) > when)),
  );
}

/** An alarm a patrol on this phone will raise once the server has it: the list and the e-file say so on an offline
 *  day, before the server's alarm (which only the server writes) comes back. */
export interface PendingAlarm {
  /** The patrols of the visit (one per checklist module): the server names its alarm after one of them. */
  patrols: string[];
  performed_at: string;
  /** The new hazards, each with the patrol (module) that found it. */
  items: { item: string; severity: Severity; hazard: string; patrol: string }[];
  cost: number;
}

/** A visit of this phone's patrols the server has not projected yet: its new hazards, what they will cost, and
 *  whether the server will raise an alarm for it. */
export interface PendingVisit extends PendingAlarm {
  /** Why the server will raise an alarm (a serious item, the threshold reached), or null: it will raise none. */
  alarm: AlarmReason | null;
  /** The alarm threshold of the rules in force on the visit's day. */
  threshold: number;
}

/**
 * The visits of this phone's patrols that found new hazards, as the server will take them
 * (server/validators/projections.py `_patrol` and `alarms`): of each visit (the patrols of one worker at one moment,
 * one per module: the server's submission) that the server has not answered with an alarm named after one of its
 * patrols, the new hazards (`provisionalHazards`: not those found again) cost their severity's points (or their item's
 * own), each +3 where the shop's latest self-check before it declared the item in order; the visit alarms when they
 * reach the threshold or one is serious, by the rules in force on its day. Once the server has the patrol its hazards
 * are no longer provisional: nothing is pending, alarm or none. The shared cases of tests/fixtures/alarm_cases.json
 * hold this to the server's rule (pwa/tests/grid-alarm-cases.test.ts, tests/validators/test_alarm_cases.py).
 */
export function pendingVisits(file: ShopFile, district: District = NO_DISTRICT): PendingVisit[] {
  const provisional = provisionalHazards(file).sort((a, b) => Date.parse(a.found_at) - Date.parse(b.found_at));
  if (!provisional.length) return [];
  const raised = new Set(file.alarms.map((a) => splitId(a._id)[2]));
  const byId = new Map(file.patrols.map((p) => [p._id, p]));
  const visits = new Map<string, { patrols: PatrolDoc[]; found: HazardDoc[] }>();
  const kept: HazardDoc[] = [];
  for (const hazard of provisional) {
    const patrol = byId.get(hazard.source);
    // An item a patrol earlier on this phone found is that hazard again (a second visit before the first uploaded).
    if (!patrol || foundAgain(kept, hazard.found_at, hazard.item)) continue;
    kept.push(hazard);
    const key = `${patrol.created_by}\n${Date.parse(patrol.performed_at)}`;
    const visit = visits.get(key) ?? { patrols: file.patrols.filter((p) => `${p.created_by}\n${Date.parse(p.performed_at)}` === key), found: [] };
    visit.found.push(hazard);
    visits.set(key, visit);
  }
  const pending: PendingVisit[] = [];
  for (const { patrols, found } of visits.values()) {
    if (patrols.some((p) => raised.has(splitId(p._id)[2]))) continue;
    const at = patrols[0]!.performed_at;
    const rules = rulesOn(district.rules, dayOf(at));
    let cost = 0;
    for (const hazard of found) {
      const patrol = byId.get(hazard.source)!;
      const template = templateVersion(district.templates, patrol.template, patrol.template_version);
      cost += hazardCost(rules, hazard.severity, template?.items.find((i) => i.id === hazard.item) ?? null);
      if (declaredBefore(file, district, at, hazard.item)) cost += falseReportCost(rules);
    }
    const items = found.map((h) => ({ item: h.item, severity: h.severity, hazard: h._id, patrol: h.source }));
    const alarm = alarmReason(rules, cost, found.map((h) => h.severity));
    pending.push({ patrols: patrols.map((p) => p._id), performed_at: at, items, cost, alarm, threshold: alarmThreshold(rules) });
  }
  return pending;
}

/** The alarms this phone's patrols will raise (`pendingVisits` that alarm), and those the server's hazards of a patrol
 *  say it raised that are not on the phone yet (`awaitedAlarms`). */
export function pendingAlarms(file: ShopFile, district: District = NO_DISTRICT): PendingAlarm[] {
  const pending = pendingVisits(file, district)
    .filter((visit) => visit.alarm !== null)
    .map(({ patrols, performed_at, items, cost }) => ({ patrols, performed_at, items, cost }));
  const covered = new Set(pending.flatMap((alarm) => alarm.patrols));
  return [...pending, ...awaitedAlarms(file).filter((alarm) => !alarm.patrols.some((id) => covered.has(id)))];
}

/**
 * The alarms the server's hazards of patrols name (`alarm`) that have not come down yet: the hazards came first (a
 * CouchDB cluster sends one write's documents in no promised order), and the alarm is still to come, as it was while
 * the hazards were provisional (the e-file's 报警待上传 · 巡查已上传，报警即将送达安监所). Its items are the hazards
 * naming it; its cost theirs (without false self-reports: not shown).
 */
function awaitedAlarms(file: ShopFile): PendingAlarm[] {
  const here = new Set(file.alarms.map((a) => a._id));
  const named = new Map<string, HazardDoc[]>();
  for (const hazard of file.hazards) {
    if (hazard.self_reported || !hazard.alarm || here.has(hazard.alarm)) continue;
    named.set(hazard.alarm, [...(named.get(hazard.alarm) ?? []), hazard]);
  }
  return [...named.values()].map((found) => ({
    patrols: [...new Set(found.map((h) => h.source))].sort(),
    performed_at: found[0]!.found_at,
    items: found.map((h) => ({ item: h.item, severity: h.severity, hazard: h._id, patrol: h.source })),
    cost: found.reduce((sum, h) => sum + h.cost, 0),
  }));
}

/** Whether the shop's latest self-check before `at` (of any module) declared `item` in order. */
function declaredBefore(file: ShopFile, district: District, at: string, item: string): boolean {
  const check = file.selfChecks.find((c) => Date.parse(c.performed_at) < Date.parse(at)); // newest first
  const answer = check?.answers[item];
  if (!check || !answer) return false;
  const template = templateVersion(district.templates, check.template, check.template_version);
  return !!template && declaredInOrder(template.items.find((i) => i.id === item) ?? null, answer.value);
}

/** The server's hazards and this device's provisional ones, newest first. */
export function allHazards(file: ShopFile): HazardDoc[] {
  return newestFirst([...file.hazards, ...provisionalHazards(file)]);
}

/** The owner's rectifications of `hazard` on the phone, the latest first. */
export function rectificationsOf(file: ShopFile, hazard: HazardDoc): RectificationDoc[] {
  return file.others
    .filter((d): d is RectificationDoc => d.type === 'rectification' && namesHazard(hazard, (d as RectificationDoc).hazard))
    .sort((a, b) => Date.parse(b.performed_at) - Date.parse(a.performed_at));
}

/**
 * The grid worker's verdict on `hazard` that the server has not taken into the hazard yet (written offline, or
 * just uploaded): the latest verification on the phone, made after the latest rectification, while the hazard
 * still waits for one (a failed verdict the server took reopens it; a passed one closes it). Until then the
 * hazard is not to verify again: a second, contradicting verdict was kept by the server and ignored.
 */
export function pendingVerdict(file: ShopFile, hazard: HazardDoc): VerificationDoc | null {
  if (hazard.status === 'closed') return null;
  const latest = <T extends { performed_at: string }>(docs: T[]): T | undefined =>
    docs.reduce<T | undefined>((a, d) => (a === undefined || Date.parse(d.performed_at) > Date.parse(a.performed_at) ? d : a), undefined);
  const verdict = latest(
    file.others.filter((d): d is VerificationDoc => d.type === 'verification' && namesHazard(hazard, (d as VerificationDoc).hazard)),
  );
  if (!verdict) return null;
  const fix = rectificationsOf(file, hazard)[0];
  if (fix && Date.parse(fix.performed_at) > Date.parse(verdict.performed_at)) return null; // fixed again since
  return verdict.passed || hazard.status === 'rectified' ? verdict : null;
}

/** A hazard still to be dealt with (open, fixed but not verified, or overdue). */
export function isUnresolved(hazard: HazardDoc): boolean {
  return hazard.status !== 'closed';
}

/**
 * The hazards still open on this phone: unresolved (`allHazards`: the phone's provisional ones included), less those
 * whose fix this phone passed (`pendingVerdict`: offline, or not taken into the hazard by the server yet), which
 * the server closes at the verdict. A failed verdict keeps a hazard open. What the list counts (未销号隐患 on the
 * shop's card, the 有问题 filter) and what the patrol form says is still open, and finds again, under each item.
 */
export function stillOpen(file: ShopFile): HazardDoc[] {
  return allHazards(file).filter((h) => isUnresolved(h) && !pendingVerdict(file, h)?.passed);
}

/** Overdue by the device's own day too: the server marks it at 00:05, but a phone may be offline for days. */
export function isOverdue(hazard: Pick<HazardDoc, 'status' | 'deadline'>, today: string): boolean {
  return hazard.status === 'overdue' || (hazard.status === 'open' && hazard.deadline < today);
}

/** The hazard's status as the worker is shown it today: its own, or overdue by the device's day (`isOverdue`). */
export function statusToday(hazard: Pick<HazardDoc, 'status' | 'deadline'>, today: string): HazardStatus {
  return isOverdue(hazard, today) ? 'overdue' : hazard.status;
}

export interface Due {
  code: string;
  name: string;
  address: string;
  points: number | null;
  patrolDue: boolean; // no patrol this month
  /** No patrol since the start of last month: last month's was missed (the office's 逾期未巡查, counted by
   *  server/office/shops.py `workers`). Implies `patrolDue`. */
  patrolOverdue: boolean;
  selfCheckMissing: boolean; // no self-check this ISO week
  openHazards: number; // unresolved, overdue included
  overdueHazards: number;
  toVerify: number; // rectified by the owner, waiting for a grid worker's verification
  openAlarms: number;
  /** Alarms this phone's patrols will raise once uploaded (`pendingAlarms`): 报警待上传, ranked as alarms. */
  pendingAlarms: number;
  lastPatrol: string | null; // performed_at
  lastSelfCheck: string | null;
  urgency: number;
  closed: boolean;
}

/** Weights: an open alarm (or one a patrol on this phone will raise) outranks everything, then overdue hazards, fixes
 * to verify, open hazards, a patrol missed last month, the month's patrol, the week's self-check. A missed patrol (taking the place of the month's) outranks the
 * month's patrol with the self-check missing too (13), and stays under one open hazard with it (20): on the 1st every
 * shop owes the month's patrol, and those that missed last month's must not drown among those patrolled yesterday. */
const WEIGHT = { alarm: 1000, overdue: 100, verify: 40, hazard: 20, patrolMissed: 15, patrol: 10, selfCheck: 3 } as const;

/**
 * What `dueOn` needs to know of a shop's file, on any day: the list keeps it for each shop (and saves it on the phone,
 * ./list-model, whose SAVED_VERSION changes with it), so a new day's list needs no file read.
 */
export interface ShopFacts {
  code: string;
  name: string;
  address: string;
  points: number | null;
  closed: boolean;
  /** The day it was registered (null: not noted, open since always): one registered this month missed no patrol. */
  opened: string | null;
  lastPatrol: string | null;
  lastSelfCheck: string | null;
  /** The Shanghai months (`2026-11`) with a patrol. */
  patrolMonths: string[];
  /** The ISO weeks (`2026-W48`) with a self-check. */
  selfCheckWeeks: string[];
  /** The hazards still to be dealt with (`stillOpen`): the phone's provisional ones included, those it passed a fix
   *  of not. */
  unresolved: Pick<HazardDoc, 'status' | 'deadline'>[];
  /** Of those, the fixes waiting for a verdict this phone has not given yet. */
  toVerify: number;
  openAlarms: number;
  pendingAlarms: number;
}

/** `district`: the rules and templates the alarm rule reads (`pendingAlarms`). */
export function shopFacts(file: ShopFile, district: District = NO_DISTRICT): ShopFacts {
  // A fix this phone passed (offline, or not taken by the server yet) is dealt with: the list no longer counts it as
  // a hazard still open (未销号隐患) on the card the worker just verified. A failed verdict reopens it: still open.
  const unresolved = stillOpen(file);
  return {
    code: file.shop.code,
    name: file.shop.name,
    address: file.shop.address,
    points: file.score?.points ?? null,
    closed: file.shop.status === 'closed',
    opened: file.shop.opened ?? null,
    lastPatrol: file.patrols[0]?.performed_at ?? null,
    lastSelfCheck: file.selfChecks[0]?.performed_at ?? null,
    patrolMonths: [...new Set(file.patrols.map((p) => dayOf(p.performed_at).slice(0, 7)))],
    selfCheckWeeks: [...new Set(file.selfChecks.map((c) => weekOfDay(dayOf(c.performed_at))))],
    unresolved: unresolved.map((h) => ({ status: h.status, deadline: h.deadline })),
    toVerify: unresolved.filter((h) => h.status === 'rectified' && !pendingVerdict(file, h)).length,
    openAlarms: file.alarms.filter((a) => a.status !== 'resolved').length,
    pendingAlarms: pendingAlarms(file, district).length,
  };
}

/** What is due at a shop on the day of `now`. */
export function dueOn(facts: ShopFacts, now: Date): Due {
  const today = shanghaiDay(now.getTime());
  const month = today.slice(0, 7);
  const patrolDue = !facts.patrolMonths.includes(month);
  const lastMonth = monthBefore(month);
  const registeredThisMonth = (facts.opened ?? '') >= `${month}-01`;
  const patrolOverdue = !registeredThisMonth && !facts.patrolMonths.some((m) => m >= lastMonth);
  const selfCheckMissing = !facts.selfCheckWeeks.includes(weekOfDay(today));
  const overdueHazards = facts.unresolved.filter((h) => isOverdue(h, today)).length;
  const { unresolved, toVerify, openAlarms, pendingAlarms: pending, closed } = facts;
  const urgency = closed
    ? -1
    : WEIGHT.alarm * (openAlarms + pending) +
      WEIGHT.overdue * overdueHazards +
      WEIGHT.verify * toVerify +
      WEIGHT.hazard * (unresolved.length - overdueHazards - toVerify) +
      (patrolOverdue ? WEIGHT.patrolMissed : patrolDue ? WEIGHT.patrol : 0) +
      (selfCheckMissing ? WEIGHT.selfCheck : 0);
  return {
    code: facts.code,
    name: facts.name,
    address: facts.address,
    points: facts.points,
    patrolDue,
    patrolOverdue,
    selfCheckMissing,
    openHazards: unresolved.length,
    overdueHazards,
    toVerify,
    openAlarms,
    pendingAlarms: pending,
    lastPatrol: facts.lastPatrol,
    lastSelfCheck: facts.lastSelfCheck,
    urgency,
    closed,
  };
}

export function dueAt(file: ShopFile, now: Date, district: District = NO_DISTRICT): Due {
  return dueOn(shopFacts(file, district), now);
}

/** Most urgent first; equal urgency: the lower score first, then the shop code. Closed shops last. */
export function byUrgency(a: Due, b: Due): number {
  if (a.urgency !== b.urgency) return b.urgency - a.urgency;
  const pa = a.points ?? Number.POSITIVE_INFINITY;
  const pb = b.points ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa - pb;
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}

/** Case-insensitive match on code, name and address; blank matches everything. */
export function matches(due: Due, query: string): boolean {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const text = `${due.code} ${due.name} ${due.address}`.toLowerCase();
  return words.every((w) => text.includes(w));
}

export function dueList(files: Iterable<ShopFile>, now: Date, query = ''): Due[] {
  return [...files]
    .map((f) => dueAt(f, now))
    .filter((d) => matches(d, query))
    .sort(byUrgency);
}

export type DueFilter = 'all' | 'patrol' | 'problems';

/** The shops a filter keeps: still to patrol this month, or with open hazards or alarms. Closed shops only
 * under "all". */
export function filterDues(dues: Due[], filter: DueFilter): Due[] {
  if (filter === 'patrol') return dues.filter((d) => !d.closed && d.patrolDue);
  if (filter === 'problems') return dues.filter((d) => !d.closed && (d.openHazards > 0 || d.openAlarms > 0 || d.pendingAlarms > 0));
  return dues;
}

/** The photos of the latest self-check of each checklist module at a shop: what a patrol compares against. */
export function latestPhotos(file: ShopFile): string[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const check of file.selfChecks) {
    if (seen.has(check.template)) continue; // newest first: the first of each module is its latest
    seen.add(check.template);
    for (const answer of Object.values(check.answers)) ids.push(...(answer.photos ?? []));
  }
  return ids;
}

/** The photos a verification compares: of each fix waiting for this phone's verdict (the list's 待复核整改), the
 *  hazard's and those of the owner's latest rectification of it. */
export function verifyPhotos(file: ShopFile): string[] {
  const ids: string[] = [];
  for (const hazard of file.hazards) {
    if (hazard.status !== 'rectified' || pendingVerdict(file, hazard)) continue;
    const fix = rectificationsOf(file, hazard)[0];
    ids.push(...(hazard.photos ?? []), ...(fix?.photos ?? []));
  }
  return ids;
}

/** Of the shops' dues (in their order), `latestPhotos` and `verifyPhotos`: the photos of those still to patrol this
 *  month, and of the fixes to verify (a fix is verified on an offline day too, looking at the owner's photo). */
export function photosToPatrol(shops: Iterable<{ due: Due; photos: readonly string[]; fixPhotos?: readonly string[] }>): string[] {
  const ids: string[] = [];
  for (const { due, photos, fixPhotos } of shops) {
    if (due.closed) continue;
    if (due.toVerify) ids.push(...(fixPhotos ?? []));
    if (due.patrolDue) ids.push(...photos);
  }
  return [...new Set(ids)];
}

/**
 * The owner photos a patrol will compare against: those of the latest self-check of each checklist module, at
 * the shops still to patrol this month, and those of the fixes to verify (most urgent first).
 */
export function photosToKeep(files: Iterable<ShopFile>, now: Date): string[] {
  const byCode = new Map([...files].map((f) => [f.shop.code, f]));
  return photosToPatrol(
    dueList(byCode.values(), now).flatMap((due) => {
      const file = byCode.get(due.code);
      return file ? [{ due, photos: latestPhotos(file), fixPhotos: verifyPhotos(file) }] : [];
    }),
  );
}

/** The patrols done this month and the shops still to patrol, for the header of the list. */
export function monthProgress(dues: Due[]): { done: number; total: number } {
  const active = dues.filter((d) => !d.closed);
  return { done: active.filter((d) => !d.patrolDue).length, total: active.length };
}

/** How long a new alarm counts as news for the phone (./alarm-news): a day. */
export const RECENT_MS = 24 * 3_600_000;

/** Whether `doc` is an alarm to announce: open, raised in the last day, and not announced on this phone yet. */
export function isNews(doc: Partial<AlarmDoc> | undefined, seen: ReadonlySet<string>, now: number): boolean {
  if (!doc || doc.type !== 'alarm' || doc.status !== 'open' || !doc._id || seen.has(doc._id)) return false;
  const at = Date.parse(doc.created_at ?? '');
  return Number.isFinite(at) && at > now - RECENT_MS;
}
