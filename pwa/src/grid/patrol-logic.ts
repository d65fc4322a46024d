// The patrol's logic, apart from the DOM (tested in pwa/tests/grid-patrol.test.ts): prefill from the owner's
// latest self-check, what each item's check says (confirmed / disputed), which answers become findings with
// what severity and deadline, and the `patrol` event itself (server/models/events.py `Patrol`).
import type {
  Answer,
  AnswerValue,
  Finding,
  HazardDoc,
  PatrolDoc,
  RulesDoc,
  SelfCheckDoc,
  Severity,
  TemplateDoc,
  TemplateItem,
} from './docs';
import { OTHER_ITEM } from './docs';
import { allowsNotApplicable, isHazard, NOT_APPLICABLE, photoNeeded } from '../items';
import { addDays, dayOf } from './due';
export { rulesOn } from './rules'; // the patrol's deadlines follow the version in force on its day

export const MAX_PHOTOS = 20;
export const MAX_VERIFIED = 100; // a patrol lists at most this many verified self-checks
export { OTHER_ITEM };

/** SPEC's defaults, used until the district's rules document has reached the phone. */
export const DEFAULT_DEADLINE_DAYS: Record<Severity, number> = { general: 7, major: 3, serious: 1 };

/** What the worker has entered for one item. `ownPhotos` are photos taken on this patrol. */
export interface ItemDraft {
  value: AnswerValue | null;
  ownPhotos: string[];
  note: string;
  /** Set when the worker changed the severity or deadline the form proposed for this item's finding. */
  severity?: Severity;
  deadline?: string;
}

/** A finding on something no item covers (`item: "other"`). */
export interface OtherFinding {
  id: string; // other-1, other-2 …
  severity: Severity;
  deadline: string;
  note: string;
  photos: string[];
}

export interface PatrolDraft {
  items: Record<string, ItemDraft>;
  /** Self-checks the worker verified (ids); by default every one since the last patrol. */
  verified: string[];
  /** Self-checks the form has listed to verify (ids), kept with the draft: one listed for the first time (synced in
   *  since, even while the form was left) is ticked, one listed before keeps the worker's tick or untick
   *  (`selfChecksToVerifyNow`). A draft saved before it was kept lacks it: those listed as it opens count as listed. */
  offered?: string[];
  others: OtherFinding[];
}

export type ItemCheck = 'confirmed' | 'disputed' | 'new' | 'unanswered';

export function deadlineDays(rules: RulesDoc | null, severity: Severity): number {
  const days = rules?.deadline_days?.[severity];
  return typeof days === 'number' && days >= 1 ? days : DEFAULT_DEADLINE_DAYS[severity];
}

export function defaultDeadline(rules: RulesDoc | null, severity: Severity, today: string): string {
  return addDays(today, deadlineDays(rules, severity));
}

/** The self-checks a patrol verifies: those performed since the shop's latest patrol, newest first. */
export function selfChecksToVerify(selfChecks: SelfCheckDoc[], patrols: PatrolDoc[]): SelfCheckDoc[] {
  const last = Math.max(0, ...patrols.map((p) => Date.parse(p.performed_at) || 0));
  return selfChecks
    .filter((c) => (Date.parse(c.performed_at) || 0) > last)
    .sort((a, b) => Date.parse(b.performed_at) - Date.parse(a.performed_at))
    .slice(0, MAX_VERIFIED);
}

/**
 * The self-checks the open form lists to verify, once the shop's documents changed (an owner's self-check synced in
 * mid-visit, a colleague's patrol synced): those `selfChecksToVerify` gives now, and every one the worker ticked that
 * the phone still holds (a patrol synced meanwhile does not take back what this worker verified on site); newest
 * first. Ticked: those ticked before, and those listed for the first time (not in `offered`), as the form ticks every
 * one at first; one the worker unticked stays unticked.
 */
export function selfChecksToVerifyNow(
  selfChecks: SelfCheckDoc[],
  patrols: PatrolDoc[],
  ticked: readonly string[],
  offered: ReadonlySet<string>,
): { list: SelfCheckDoc[]; verified: string[] } {
  const wasTicked = new Set(ticked);
  const held = selfChecks.filter((c) => wasTicked.has(c._id)).slice(0, MAX_VERIFIED);
  const more = selfChecksToVerify(selfChecks, patrols).filter((c) => !wasTicked.has(c._id));
  const list = [...held, ...more.slice(0, MAX_VERIFIED - held.length)].sort(
    (a, b) => Date.parse(b.performed_at) - Date.parse(a.performed_at),
  );
  const verified = list.filter((c) => wasTicked.has(c._id) || !offered.has(c._id)).map((c) => c._id);
  return { list, verified };
}

/** A finding's id: its item's id (at most 32 characters on the wire), shortened with a hash when longer. */
export function findingId(item: string): string {
  if (item.length <= 32) return item;
  let hash = 0;
  for (const ch of item) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `${item.slice(0, 24)}-${hash.toString(36).slice(0, 7)}`;
}

/** A fresh draft: every item prefilled with the owner's latest answer (to be confirmed or disputed). The owner's
 *  不适用 is kept where the item still allows it (the office may have taken the choice away since). */
export function prefill(template: TemplateDoc, latest: SelfCheckDoc | null, toVerify: SelfCheckDoc[]): PatrolDraft {
  const items: Record<string, ItemDraft> = {};
  for (const item of template.items) {
    const owner = latest?.answers[item.id];
    const value = owner && (owner.value !== NOT_APPLICABLE || allowsNotApplicable(item)) ? owner.value : null;
    items[item.id] = { value, ownPhotos: [], note: '' };
  }
  return { items, verified: toVerify.map((c) => c._id), others: [] };
}

/** How the worker's answer stands against the owner's latest self-check. */
export function itemCheck(owner: Answer | undefined, draft: ItemDraft | undefined): ItemCheck {
  if (!draft || draft.value === null) return 'unanswered';
  if (!owner) return 'new';
  return owner.value === draft.value ? 'confirmed' : 'disputed';
}

/** The answer a patrol records: the worker's value; photos taken now, plus the owner's when confirmed. */
export function patrolAnswer(owner: Answer | undefined, draft: ItemDraft): Answer | null {
  if (draft.value === null) return null;
  const confirmed = itemCheck(owner, draft) === 'confirmed';
  const photos = [...(confirmed ? (owner?.photos ?? []) : []), ...draft.ownPhotos];
  const answer: Answer = { value: draft.value };
  if (photos.length) answer.photos = [...new Set(photos)];
  if (draft.note.trim()) answer.note = draft.note.trim();
  return answer;
}

/** The severity of each hazardous answer after escalation (people sleeping in a “三合一” shop: serious). */
export function hazardSeverities(template: TemplateDoc, values: Record<string, AnswerValue | null>): Map<string, Severity> {
  const hazards = template.items.filter((item) => isHazard(item, values[item.id] ?? null));
  const ids = new Set(hazards.map((item) => item.id));
  const found = new Map<string, Severity>();
  for (const item of hazards) {
    const escalated = item.escalate && item.escalate.when_hazard.some((other) => ids.has(other));
    found.set(item.id, escalated && item.escalate ? item.escalate.severity : item.severity);
  }
  return found;
}

/**
 * The items whose answer on this patrol is a hazard and so become findings, with their proposed severity.
 * An item whose hazard is still unresolved (declared by the owner or found before) is not found again.
 */
export function itemFindings(
  template: TemplateDoc,
  draft: PatrolDraft,
  unresolved: HazardDoc[],
): { item: string; severity: Severity }[] {
  const values = Object.fromEntries(Object.entries(draft.items).map(([id, d]) => [id, d.value]));
  const known = new Set(unresolved.filter((h) => h.status !== 'closed').map((h) => h.item));
  return [...hazardSeverities(template, values)]
    .filter(([item]) => !known.has(item))
    .map(([item, proposed]) => ({ item, severity: draft.items[item]?.severity ?? proposed }));
}

export interface Problem {
  item: string; // an item id, an `other-n` finding id, or '' for the whole form
  reason: 'unanswered' | 'photo_required' | 'too_many_photos' | 'deadline' | 'note_required';
}

export interface PatrolContext {
  template: TemplateDoc;
  rules: RulesDoc | null;
  latest: SelfCheckDoc | null;
  unresolved: HazardDoc[];
  today: string; // Shanghai day of the patrol
}

function findingsOf(ctx: PatrolContext, draft: PatrolDraft): Finding[] {
  const findings: Finding[] = [];
  for (const { item, severity } of itemFindings(ctx.template, draft, ctx.unresolved)) {
    const d = draft.items[item];
    const answer = d ? patrolAnswer(ctx.latest?.answers[item], d) : null;
    const finding: Finding = {
      id: findingId(item),
      item,
      severity,
      deadline: d?.deadline ?? defaultDeadline(ctx.rules, severity, ctx.today),
    };
    if (answer?.note) finding.note = answer.note;
    if (d?.ownPhotos.length) finding.photos = [...d.ownPhotos];
    findings.push(finding);
  }
  for (const other of draft.others) {
    const finding: Finding = { id: other.id, item: OTHER_ITEM, severity: other.severity, deadline: other.deadline };
    if (other.note.trim()) finding.note = other.note.trim();
    if (other.photos.length) finding.photos = [...other.photos];
    findings.push(finding);
  }
  return findings;
}

/** What stops this draft from being submitted (the gateway would refuse it), in form order. */
export function problems(ctx: PatrolContext, draft: PatrolDraft): Problem[] {
  const found: Problem[] = [];
  let photos = 0;
  for (const item of ctx.template.items) {
    const d = draft.items[item.id];
    const answer = d ? patrolAnswer(ctx.latest?.answers[item.id], d) : null;
    if (!answer) {
      found.push({ item: item.id, reason: 'unanswered' });
      continue;
    }
    photos += answer.photos?.length ?? 0;
    // 不适用 (no gas in the shop): nothing to photograph.
    if (photoNeeded(item, answer.value) && !answer.photos?.length) found.push({ item: item.id, reason: 'photo_required' });
  }
  for (const finding of findingsOf(ctx, draft)) {
    if (finding.deadline < ctx.today) found.push({ item: finding.id, reason: 'deadline' });
    if (finding.item === OTHER_ITEM) {
      photos += finding.photos?.length ?? 0;
      if (!finding.note && !finding.photos?.length) found.push({ item: finding.id, reason: 'note_required' });
    }
  }
  if (photos > MAX_PHOTOS) found.push({ item: '', reason: 'too_many_photos' });
  return found;
}

export interface Author {
  user: string; // created_by: the signed-in user id
  device: string;
  performedAt: string; // ISO time with offset
}

/** The `patrol` event for `shop`; `problems()` must be empty first. The id is `{shop}:patrol:{ulid}`. */
export function buildPatrol(ctx: PatrolContext, draft: PatrolDraft, shop: string, ulid: string, by: Author): PatrolDoc {
  const answers: Record<string, Answer> = {};
  for (const item of ctx.template.items) {
    const d = draft.items[item.id];
    const answer = d ? patrolAnswer(ctx.latest?.answers[item.id], d) : null;
    if (answer) answers[item.id] = answer;
  }
  return {
    _id: `${shop}:patrol:${ulid}`,
    type: 'patrol',
    schema: 1,
    shop,
    performed_at: by.performedAt,
    created_by: by.user,
    device: by.device,
    template: ctx.template._id.replace(/:v\d+$/, ''),
    template_version: ctx.template.version,
    verified_self_checks: [...draft.verified],
    answers,
    findings: findingsOf(ctx, draft),
  };
}

/** The shop's latest patrol of `day` (Shanghai), if any: a second one that day is a second visit on the e-file,
 *  and a worker who went Back after submitting would make one without meaning to. */
export function patrolledOn(patrols: readonly PatrolDoc[], day: string): PatrolDoc | null {
  const that = patrols.filter((p) => dayOf(p.performed_at) === day);
  return that.reduce<PatrolDoc | null>((a, p) => (a === null || Date.parse(p.performed_at) > Date.parse(a.performed_at) ? p : a), null);
}

/** The items a check's answers declare as hazards, in template order. */
export function hazardItems(template: TemplateDoc, answers: Record<string, Answer>): string[] {
  const values = Object.fromEntries(Object.entries(answers).map(([id, a]) => [id, a.value]));
  return [...hazardSeverities(template, values).keys()];
}

// ----- several checklist modules (fire and gas, food safety, hygiene …) in one visit -----
// The owner writes one self-check per module that applies to the shop; the patrol does the same: one `patrol`
// event per module, each with its own items, findings and verified self-checks. Problems no item covers
// ("other") go with the first module (fire and gas).

/** The latest self-check per module: `latest` of a module's context. */
export function latestFor(template: TemplateDoc, selfChecks: SelfCheckDoc[]): SelfCheckDoc | null {
  const id = template._id.replace(/:v\d+$/, '');
  return (
    selfChecks
      .filter((c) => c.template === id)
      .sort((a, b) => Date.parse(b.performed_at) - Date.parse(a.performed_at))[0] ?? null
  );
}

/** The part of the visit's draft that belongs to one module. */
export function moduleDraft(
  draft: PatrolDraft,
  template: TemplateDoc,
  first: boolean,
  selfChecks: SelfCheckDoc[],
): PatrolDraft {
  const id = template._id.replace(/:v\d+$/, '');
  const mine = new Set(selfChecks.filter((c) => c.template === id).map((c) => c._id));
  const items: Record<string, ItemDraft> = {};
  for (const item of template.items) {
    const d = draft.items[item.id];
    if (d) items[item.id] = d;
  }
  return { items, verified: draft.verified.filter((v) => mine.has(v)), others: first ? draft.others : [] };
}

export interface Visit {
  modules: PatrolContext[]; // the first carries the "other" findings
  selfChecks: SelfCheckDoc[];
}

/** A fresh draft for every module of the visit. */
export function prefillVisit(visit: Visit, toVerify: SelfCheckDoc[]): PatrolDraft {
  const ids = toVerify.map((c) => c._id);
  const draft: PatrolDraft = { items: {}, verified: ids, offered: [...ids], others: [] };
  for (const m of visit.modules) Object.assign(draft.items, prefill(m.template, m.latest, []).items);
  return draft;
}

/** The owner's latest answer to any item of the visit. */
export function ownerAnswers(visit: Visit): Record<string, Answer> {
  return Object.assign({}, ...visit.modules.map((m) => m.latest?.answers ?? {})) as Record<string, Answer>;
}

export function visitFindings(visit: Visit, draft: PatrolDraft): { item: string; severity: Severity }[] {
  return visit.modules.flatMap((m, i) =>
    itemFindings(m.template, moduleDraft(draft, m.template, i === 0, visit.selfChecks), m.unresolved),
  );
}

export function visitProblems(visit: Visit, draft: PatrolDraft): Problem[] {
  return visit.modules.flatMap((m, i) => problems(m, moduleDraft(draft, m.template, i === 0, visit.selfChecks)));
}

/** One `patrol` event per module; `ulid()` gives each its id. */
export function buildPatrols(visit: Visit, draft: PatrolDraft, shop: string, ulid: () => string, by: Author): PatrolDoc[] {
  return visit.modules.map((m, i) =>
    buildPatrol(m, moduleDraft(draft, m.template, i === 0, visit.selfChecks), shop, ulid(), by),
  );
}

/**
 * A saved draft made usable against today's form: anything that is not a draft is dropped, items the
 * template gained since are taken from the fresh prefill, items it lost are forgotten.
 */
export function restoreDraft(saved: unknown, fresh: PatrolDraft): PatrolDraft | null {
  const s = saved as Partial<PatrolDraft> | null;
  if (!s || typeof s !== 'object' || typeof s.items !== 'object' || s.items === null) return null;
  if (!Array.isArray(s.verified) || !Array.isArray(s.others)) return null;
  const items: Record<string, ItemDraft> = {};
  for (const [id, d] of Object.entries(fresh.items)) {
    const old = s.items[id];
    // 不适用 is kept too: the form leaves it unanswered where the item no longer allows it.
    const value = old?.value;
    const ok =
      old &&
      (value === null || typeof value === 'boolean' || typeof value === 'number' || value === NOT_APPLICABLE) &&
      Array.isArray(old.ownPhotos) &&
      typeof old.note === 'string';
    items[id] = ok ? old : d;
  }
  const others = s.others.filter(
    (o): o is OtherFinding => !!o && typeof o.id === 'string' && typeof o.deadline === 'string' && Array.isArray(o.photos),
  );
  const strings = (list: unknown[]): string[] => list.filter((v): v is string => typeof v === 'string');
  const restored: PatrolDraft = { items, verified: strings(s.verified), others };
  if (Array.isArray(s.offered)) restored.offered = strings(s.offered);
  return restored;
}

/**
 * Whether the worker entered anything in `draft`: an answer other than the owner's prefilled one (`fresh`, the form as
 * it opens), a self-check left unverified, a photo, a note, a severity or deadline of their own, another problem. A
 * patrol only opened saves its draft too (the owner's answers): signing out loses nothing of it, and asks nothing.
 */
export function patrolEntered(draft: PatrolDraft, fresh: PatrolDraft): boolean {
  if (draft.others.length > 0) return true;
  const verified = new Set(draft.verified);
  if (verified.size !== fresh.verified.length || fresh.verified.some((id) => !verified.has(id))) return true;
  return Object.entries(draft.items).some(
    ([id, d]) =>
      d.value !== (fresh.items[id]?.value ?? null) ||
      d.ownPhotos.length > 0 ||
      d.note.trim() !== '' ||
      d.severity !== undefined ||
      d.deadline !== undefined,
  );
}
