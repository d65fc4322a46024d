// The owner's screens: home (points, rank, open hazards with deadlines, this week's self-check, alarms),
// the weekly self-check at /s/{code}/check and the rectification of a hazard. Everything reads the local
// database, so it works offline; everything written goes through appendEvent and syncs from there.
import {
  applicableTemplates,
  buildChecklistForm,
  photoThumb,
  templateId,
  type Answer,
  type Answers,
  type Template,
  type TemplateItem,
} from './checklist';
import { localDb, uploadState, whileShown } from './db';
import { h } from './dom';
import { autosave, loadDraft, type Autosave } from './drafts';
import { appendEvent, appendEvents, isQuotaError, savePhoto } from './events';
import { joinList, t, type MessageKey } from './i18n';
import { isHazard } from './items';
import {
  hazardItemLabel,
  hazardShown,
  latestFix,
  pendingRectifications,
  recentlyClosed,
  refundOf,
  rejectedFix,
  share,
  shownOverdue,
  tiedOffList,
  type HazardShown,
  type HazardStepLike,
  type RectificationLike,
  type VerificationLike,
} from './owner-hazards';
import { LEDGER_PAGE, ledgerEntries, ledgerNewestFirst, ledgerWhat, signedPoints, type LedgerLike, type LedgerMonth } from './owner-ledger';
import { keepPhotos } from './photo-cache';
import { removableThumb } from './photo-thumb';
import { checkPath, navigate, rectifyPath, shopPath } from './router';
import { currentSession } from './session';
import { signOutButton } from './sign-out';
import { isoWeek, newUlid, shanghaiDay, ulidTime } from './ulid';
import { showLastSelfCheck, type View } from './views';
import { flash, savedNotice, type Saved, type UploadStage } from './flash';

interface Score {
  points: number;
  rank?: number | null;
  of?: number | null;
  list?: 'red' | 'black' | null;
  /** Black-listed in 3 of the last 6 months: flagged for a dedicated working group (专班整治). */
  working_group?: boolean;
  open_hazards?: number;
  /** The time of the latest event the server counted in it. */
  updated_at?: string | null;
}

/** `{shop}:rewards`: the reward points (积分) the shop can exchange for prizes at the office. */
interface Rewards {
  earned: number;
  redeemed: number;
  balance: number;
}

interface Hazard {
  _id: string;
  status: 'open' | 'rectified' | 'closed' | 'overdue';
  item: string;
  severity: 'general' | 'major' | 'serious';
  deadline: string;
  note?: string;
  rectifications?: string[];
  aliases?: string[];
  self_reported?: boolean;
  cost?: number;
  closed_at?: string | null;
  history?: HazardStepLike[];
  photos?: string[];
}

/** Where a hazard came from, what it cost, and what a fix in time gives back: 网格员巡查发现 · 扣 10 分，按期整改并
 *  通过核查返还 5 分. The owner saw only a lower score. */
function hazardCost(
  hz: Hazard,
  rules: RulesDoc | null,
  overdue: boolean,
  ledger: readonly LedgerLike[],
  state: HazardShown,
): HTMLElement {
  const cost = hz.cost ?? 0;
  const from = t(hz.self_reported ? 'owner.fromSelfCheck' : 'owner.fromPatrol');
  const back = share(cost, rules?.refund_percent ?? 50);
  // The weeks past the deadline cost more, each its own ledger entry (`{shop}:ledger:{hazard key}.w{n}:overdue`).
  const entries = hz._id.replace(':hazard:', ':ledger:');
  const late = -ledger.filter((e) => e.rule === 'overdue' && e._id.startsWith(`${entries}.w`)).reduce((sum, e) => sum + e.points, 0);
  // A patrol's finding on an item the latest self-check declared in order costs the false report's −3 too
  // (`{shop}:ledger:{hazard key}:false_self_report`), never given back: without it 扣 2 分 read as all it cost.
  const falseReport = -(ledger.find((e) => e._id === `${entries}:false_self_report`)?.points ?? 0);
  return h(
    'p',
    { class: 'muted hazard-cost', 'data-cost': String(cost), 'data-overdue-cost': String(late), 'data-false-report': String(falseReport) },
    `${from} · ${t('owner.hazardCost', { n: cost })}`,
    !overdue && back > 0 ? `${t('owner.listSep')}${t('owner.hazardRefund', { n: back })}` : '',
    overdue && late > 0
      ? `${t('owner.listSep')}${
          // A fix sent stops the clock (server/validators/hazards.py `delay_end`): no week more while it waits.
          state === 'fix'
            ? t('owner.hazardOverdue', { n: late, week: rules?.overdue_cost_per_week ?? 2 })
            : t('owner.hazardOverdueStopped', { n: late })
        }`
      : '',
    falseReport > 0 ? `${t('owner.listSep')}${t('owner.hazardFalseReport', { n: falseReport })}` : '',
  );
}

/** How many of a hazard's photos its card and its rectification screen show. */
const SHOWN_PHOTOS = 4;
/** How many hazard photos the phone keeps for offline, the nearest deadline's first: a cheap phone has little room,
 *  and a shop rarely has more than two or three hazards open at once. */
const KEPT_PHOTOS = 12;

/** The photos of the hazards not closed yet (`unresolved`, nearest deadline first) that the phone keeps for a day
 *  without signal: those the home and the rectification screen show, each hazard's followed by those of the owner's
 *  latest fix the server lists (`fixes`: one not uploaded yet is on the phone already, ../events photoUrl). A closed
 *  hazard's leave the cache. */
function photosToKeep(open: readonly Hazard[], fixes: ReadonlyMap<string, RectificationLike | null> = new Map()): string[] {
  const fixed = (hz: Hazard): readonly string[] => {
    const fix = fixes.get(hz._id);
    return fix && (hz.rectifications ?? []).includes(fix._id) ? (fix.photos ?? []).slice(0, SHOWN_PHOTOS) : [];
  };
  return [...new Set(open.flatMap((hz) => [...(hz.photos ?? []).slice(0, SHOWN_PHOTOS), ...fixed(hz)]))].slice(0, KEPT_PHOTOS);
}

/** The words above a group of photos: 隐患照片 (the hazard's) or 整改照片 (the owner's fix). */
function photoLabel(kind: 'found' | 'fix'): HTMLElement {
  return h('p', { class: 'photo-label muted' }, t(kind === 'found' ? 'owner.photosFound' : 'owner.photosFix'));
}

/** A labelled group of thumbnails (隐患照片, 整改照片): the hazard's photos and the fix's told apart. */
function photoGroup(kind: 'found' | 'fix', ...content: (HTMLElement | null)[]): HTMLElement {
  return h(
    'div',
    { class: 'photo-group', 'data-photo-group': kind },
    photoLabel(kind),
    ...present(...content),
  );
}

/** The photos the grid worker (or the owner) took of the hazard, labelled: from the phone's copy (../photo-cache,
 *  kept while the hazard is not closed), else fetched when shown. */
function hazardPhotos(hz: Hazard): HTMLElement | null {
  const ids = hz.photos ?? [];
  return ids.length ? photoGroup('found', shownThumbs(ids, { 'data-hazard-photos': '' })) : null;
}

/** The photos of the owner's latest fix (`fix`), labelled: from this phone while it waits to upload, else as a
 *  hazard's photo. */
function fixPhotos(fix: RectificationLike | null): HTMLElement | null {
  const ids = fix?.photos ?? [];
  return ids.length ? photoGroup('fix', shownThumbs(ids, { 'data-fix-photos': fix!._id })) : null;
}

/** Of the owner's latest fix on the phone, the one shown beside the hazard's photos: once sent (waiting for the grid
 *  worker, or verified), and once they failed it; none while the hazard is to fix and no fix was failed. */
function sentFix(state: HazardShown, rejected: VerificationLike | null, fix: RectificationLike | null): RectificationLike | null {
  return state !== 'fix' || rejected ? fix : null;
}

/** The photos of the home's card and of the rectify screen: the hazard's, and the owner's fix beside them once sent
 *  (`sentFix`): the owner saw only the grid worker's photo and not what they had sent. */
function cardPhotos(hz: Hazard, fix: RectificationLike | null): HTMLElement | null {
  const groups = present(hazardPhotos(hz), fixPhotos(fix));
  return groups.length ? h('div', { class: 'photo-groups' }, ...groups) : null;
}

function shownThumbs(ids: readonly string[], attrs: Record<string, string>): HTMLElement {
  return h(
    'div',
    { class: 'thumbs', ...attrs },
    // Offline, with no copy on the phone, said (and shown once the signal is back); online, one that did not load
    // says so and loads on a tap: not a broken image.
    ...ids.slice(0, SHOWN_PHOTOS).map((id) => photoThumb(id)),
  );
}

/** `{shop}:redemption:{number}`: reward points the office exchanged for a prize. */
interface Redemption {
  _id: string;
  points: number;
  prize: string;
  performed_at: string;
}

/** What the shop exchanged its reward points for, the latest first (the balance alone said nothing of it). */
function redemptionList(redemptions: readonly Redemption[]): HTMLElement | null {
  if (redemptions.length === 0) return null;
  const latest = [...redemptions].sort((a, b) => (a.performed_at < b.performed_at ? 1 : -1)).slice(0, 10);
  return h(
    'details',
    { class: 'redemptions', 'data-redemptions': String(redemptions.length) },
    h('summary', {}, t('owner.redemptions', { n: redemptions.length })),
    h(
      'ul',
      {},
      ...latest.map((r) =>
        h('li', { 'data-redemption': r._id }, `${r.performed_at.slice(0, 10)} · ${r.prize} · ${t('owner.redeemed', { n: r.points })}`),
      ),
    ),
  );
}

/** `district:rules`: the share of a hazard's cost a fix in time gives back (the current version's). */
interface RulesDoc {
  refund_percent?: number;
  overdue_cost_per_week?: number;
  list_share_percent?: number;
  list_min_shops?: number;
}

/** Why a shop ranked within a list's places is not on it (`tiedOffList`), or nothing. */
function tiedNote(list: 'red' | 'black' | null): HTMLElement | null {
  return list ? h('p', { class: 'muted', 'data-list-tied': list }, t(`owner.list.tied.${list}`)) : null;
}

interface Alarm {
  _id: string;
  status: 'open' | 'acknowledged' | 'dispatched' | 'resolved';
  created_at: string;
  items: { item: string; severity: string }[];
}

/** A `{shop}:self_check:{ulid}` event (one per template of a submission). */
interface SelfCheck {
  _id: string;
  performed_at?: string;
  answers?: Record<string, Answer>;
}

/** A problem the owner reported in a self-check the server has not turned into a hazard yet. */
interface SelfReported {
  id: string;
  item: string;
  unsent: boolean;
}

/** How far back the owner's home looks for self-checks the server may not have counted yet. */
const RECENT_MS = 30 * 86_400_000;

function checkTime(check: SelfCheck): number {
  const at = check.performed_at ? Date.parse(check.performed_at) : NaN;
  return Number.isFinite(at) ? at : ulidTime(check._id.split(':')[2] ?? '');
}

/**
 * The self-checks on this phone the server has not counted yet: waiting to upload (`unsent`), or newer than the
 * latest event the shop's score counts (uploaded, not derived yet). Their problems are what the owner just
 * reported and are not hazards on the phone yet: a problem on an item with an unresolved hazard is that hazard.
 */
export function selfReported(
  code: string,
  checks: readonly SelfCheck[],
  unsent: ReadonlySet<string>,
  score: Pick<Score, 'updated_at'> | null,
  hazards: readonly Pick<Hazard, '_id' | 'item' | 'status'>[],
  items: ReadonlyMap<string, TemplateItem>,
): SelfReported[] {
  const counted = score?.updated_at ? Date.parse(score.updated_at) : NaN;
  const known = new Set(hazards.map((hz) => hz._id));
  const unresolved = new Set(hazards.filter((hz) => hz.status !== 'closed').map((hz) => hz.item));
  const found: SelfReported[] = [];
  for (const check of checks) {
    const waiting = unsent.has(check._id);
    if (!waiting && Number.isFinite(counted) && checkTime(check) <= counted) continue;
    const key = check._id.split(':')[2] ?? '';
    for (const [id, answer] of Object.entries(check.answers ?? {})) {
      const item = items.get(id);
      if (!item || !isHazard(item, answer.value) || unresolved.has(id) || known.has(`${code}:hazard:${key}-${id}`)) continue;
      if (found.some((f) => f.item === id)) continue; // reported twice before uploading: one hazard
      found.push({ id: `${check._id}/${id}`, item: id, unsent: waiting });
    }
  }
  return found;
}

/** Tell the card above (its 最近自查) about the newest self-check on this phone, counted by the server or not. */
function markLastSelfCheck(into: HTMLElement, latest: SelfCheck | null, unsent: boolean): void {
  const el = into.closest('.page')?.querySelector<HTMLElement>('[data-last-self-check]');
  if (!el) return;
  if (latest) el.dataset.pendingDay = shanghaiDay(checkTime(latest));
  else delete el.dataset.pendingDay;
  if (latest && unsent) el.dataset.pendingUnsent = '1';
  else delete el.dataset.pendingUnsent;
  showLastSelfCheck(el);
}

interface ShopDoc {
  name?: string;
  category?: string;
}

async function getDoc<T>(id: string): Promise<T | null> {
  try {
    return (await localDb().get(id)) as unknown as T;
  } catch {
    return null;
  }
}

async function range<T>(prefix: string): Promise<T[]> {
  const res = await localDb().allDocs({ startkey: prefix, endkey: prefix + '\ufff0', include_docs: true });
  return res.rows.flatMap((r) => (r.doc ? [r.doc as unknown as T] : []));
}

/** Every template on the device (current and frozen versions), to name hazard items. */
async function allItems(): Promise<Map<string, TemplateItem>> {
  const docs = await range<Template>('district:template:');
  const items = new Map<string, TemplateItem>();
  for (const doc of docs) for (const item of doc.items ?? []) if (!items.has(item.id)) items.set(item.id, item);
  return items;
}

function label(items: Map<string, TemplateItem>, id: string): string {
  return hazardItemLabel(items, id);
}

/** The hazard's note (what the grid worker wrote when finding it), when there is one. */
function hazardNote(hz: Hazard): HTMLElement | null {
  const note = hz.note?.trim();
  return note ? h('p', { class: 'hazard-note', 'data-hazard-note': '' }, t('owner.hazardNote', { note })) : null;
}

/**
 * The shown state of each hazard: its server document corrected by the rectifications on this phone the server
 * has not reflected yet (waiting to upload, or uploaded and not derived), so a fix is never submitted twice.
 */
async function shownStates(code: string, hazards: (Hazard | null)[], ids: string[]): Promise<Map<string, HazardShown>> {
  const found = await fixStates(code, hazards, ids);
  return new Map([...found].map(([id, { state }]) => [id, state]));
}

/** `shownStates`, with when the phone's fix waiting for the server was made (`sent`, `unsent`): a fix stops the
 *  clock, so whether the hazard is overdue depends on it (owner-hazards `shownOverdue`); and the owner's latest fix
 *  on the phone (`latestFix`), whose photos the home shows. */
async function fixStates(
  code: string,
  hazards: (Hazard | null)[],
  ids: string[],
): Promise<Map<string, { state: HazardShown; pendingAt: string | null; fix: RectificationLike | null }>> {
  const local = await range<RectificationLike>(`${code}:rectification:`);
  const pending = ids.map((id, i) => pendingRectifications(id, hazards[i] ?? null, local));
  // The push ledger is only asked when a rectification is waiting somewhere (the usual case is none).
  const { unsent, refused } = await uploadState(pending.flat().map((r) => r._id));
  return new Map(
    ids.map((id, i) => {
      const times = (pending[i] ?? []).filter((r) => !refused.has(r._id)).map((r) => r.performed_at ?? '');
      const state = hazardShown(id, hazards[i] ?? null, local, unsent, refused);
      const fix = latestFix(hazards[i] ?? { _id: id }, local, refused);
      return [id, { state, pendingAt: times.sort().at(-1) || null, fix }];
    }),
  );
}

/** The hazards not closed yet (to fix, overdue, or fixed and waiting for the grid worker), the nearest deadline first. */
function unresolved(hazards: readonly Hazard[]): Hazard[] {
  return hazards
    .filter((hz) => hz.status === 'open' || hz.status === 'overdue' || hz.status === 'rectified')
    .sort((a, b) => a.deadline.localeCompare(b.deadline));
}

/**
 * What the self-check form says under each item with a hazard not closed yet, by item id: to fix by its deadline (or
 * overdue), with the way to the rectify screen, or fixed and waiting for the grid worker. The home's states and
 * overdue rule (a fix on the phone counts); the grid worker's patrol says the same (grid/patrol.ts openHazardLine).
 */
async function openHazardLines(code: string): Promise<Map<string, HTMLElement[]>> {
  const open = unresolved(await range<Hazard>(`${code}:hazard:`));
  const shown = await fixStates(code, open, open.map((hz) => hz._id));
  const today = shanghaiDay();
  const lines = new Map<string, HTMLElement[]>();
  for (const hz of open) {
    const state = shown.get(hz._id)?.state ?? 'fix';
    if (state === 'closed') continue;
    const fix = state === 'fix';
    const kind = fix ? (shownOverdue(hz, state, today) ? 'overdue' : 'open') : state === 'unsent' ? 'unsent' : 'fixed';
    const line = h(
      'p',
      { class: `open-hazard ${kind}`, 'data-open-hazard': kind },
      t(`check.openHazard.${kind}`, { day: hz.deadline }),
      fix ? ' ' : null,
      fix ? h('a', { href: rectifyPath(code, hz._id), 'data-action': 'rectify' }, t('owner.rectify')) : null,
    );
    lines.set(hz.item, [...(lines.get(hz.item) ?? []), line]);
  }
  return lines;
}

/** The grid worker's 不通过 on the owner's last fix, with their reason: the hazard is to be fixed again. */
function rejectedNotice(verification: VerificationLike): HTMLElement {
  const note = verification.note?.trim();
  return h(
    'div',
    { class: 'rejected', 'data-rejected': verification._id, role: 'note' },
    h('p', { class: 'warn' }, h('strong', {}, t('owner.fixRejected'))),
    note ? h('p', { 'data-rejected-note': '' }, t('owner.fixRejectedNote', { note })) : null,
    h('p', { class: 'warn' }, t('owner.fixAgain')),
  );
}

/** 积分明细: what each change of the score was for, newest first, `shown` of them (and a button for more). */
function ledgerSection(
  entries: LedgerLike[],
  hazards: Hazard[],
  items: Map<string, TemplateItem>,
  shown: number,
  more: () => void,
): HTMLElement {
  const sorted = ledgerNewestFirst(entries);
  const byId = new Map(hazards.map((hz) => [hz._id, hz]));
  const button = h('button', { type: 'button', class: 'button', 'data-action': 'ledger-more' }, t('owner.ledgerMore'));
  button.addEventListener('click', more);
  return h(
    'section',
    { class: 'ledger', 'data-ledger': String(entries.length) },
    h('h2', {}, t('owner.ledgerTitle')),
    h(
      'ol',
      { class: 'ledger-list' },
      ...sorted.slice(0, shown).map((entry) =>
        h(
          'li',
          { 'data-ledger-entry': entry._id, 'data-rule': entry.rule, 'data-points': String(entry.points) },
          h('span', { class: 'ledger-day muted' }, entry.day),
          h('span', { class: 'ledger-what' }, ledgerWhat(entry, byId, items)),
          h('span', { class: entry.points > 0 ? 'ledger-points ok' : 'ledger-points warn' }, signedPoints(entry.points)),
        ),
      ),
    ),
    sorted.length > shown ? button : null,
  );
}

/** What a hazard with nothing left for the owner to do says instead of the rectify button. */
function stateText(state: HazardShown): string {
  return t(state === 'unsent' ? 'owner.rectifyUnsent' : state === 'closed' ? 'owner.hazardClosed' : 'owner.rectified');
}

function severity(s: string): string {
  return t(`severity.${s}` as MessageKey);
}

function present(...nodes: (HTMLElement | null)[]): HTMLElement[] {
  return nodes.filter((n): n is HTMLElement => n !== null);
}

/** What the owner's forms say of what they saved, on the home they go back to, as the upload goes (./flash). An
 *  uploaded fix says no more than that: the hazard's card below says it waits for the grid worker, and stops saying
 *  so once they passed or failed it (「等待网格员核查」 here stayed above 「已通过核查」 while the home was open). */
const SAVED_TEXT: Record<'check' | 'rectify', Record<UploadStage, MessageKey>> = {
  check: { offline: 'check.saved', uploading: 'check.savedUploading', uploaded: 'check.uploaded' },
  rectify: { offline: 'owner.rectifySaved', uploading: 'owner.rectifyUploading', uploaded: 'owner.rectifyUploaded' },
};

function saved(kind: 'check' | 'rectify', ids: readonly string[]): Saved {
  return { ids, text: (stage) => t(SAVED_TEXT[kind][stage]) };
}

/** The first id this shop's self-checks made in the last `ms` can have (a ULID starts with its time). */
function selfChecksSince(code: string, ms: number): string {
  return `${code}:self_check:${newUlid(Date.now() - ms).slice(0, 10)}`;
}

/** The owner's home below the public card. */
export function mountOwnerHome(code: string, into: HTMLElement, onScore?: () => void): void {
  const body = h('div', { class: 'owner-home', 'data-owner-home': code });
  // The `{code}:score` revision the card above was drawn with: a new one (the server scored something) redraws it.
  let scoreRev: string | null | undefined;
  // How many entries of the points ledger show (查看更早的记录 adds a page), kept across redraws.
  let ledgerShown = LEDGER_PAGE;
  const render = async (): Promise<void> => {
    const since = selfChecksSince(code, RECENT_MS);
    const [score, rewards, hazards, alarms, checks, items, recentRows, verifications, rules, ledgerDocs, redemptions] = await Promise.all([
      getDoc<Score>(`${code}:score`),
      getDoc<Rewards>(`${code}:rewards`),
      range<Hazard>(`${code}:hazard:`),
      range<Alarm>(`${code}:alarm:`),
      localDb().allDocs({ startkey: `${code}:self_check:\ufff0`, endkey: `${code}:self_check:`, descending: true, limit: 1 }),
      allItems(),
      localDb().allDocs({ startkey: since, endkey: `${code}:self_check:\ufff0`, include_docs: true }),
      range<VerificationLike>(`${code}:verification:`),
      getDoc<RulesDoc>('district:rules'),
      range<LedgerMonth>(`${code}:ledger:`),
      range<Redemption>(`${code}:redemption:`),
    ]);
    const ledger = ledgerEntries(ledgerDocs);
    const recent = recentRows.rows.flatMap((r) => (r.doc ? [r.doc as unknown as SelfCheck] : []));
    const { unsent: unsentChecks } = await uploadState(recent.map((c) => c._id));
    const reported = selfReported(code, recent, unsentChecks, score, hazards, items);
    const newest = recent.at(-1) ?? null;
    markLastSelfCheck(into, newest, !!newest && unsentChecks.has(newest._id));
    const rev = (score as { _rev?: string } | null)?._rev ?? null;
    if (scoreRev !== undefined && rev !== scoreRev) onScore?.();
    scoreRev = rev;
    const lastCheck = checks.rows[0]?.id.split(':')[2];
    const doneThisWeek = !!lastCheck && isoWeek(ulidTime(lastCheck)) === isoWeek();
    const open = unresolved(hazards);
    const shown = await fixStates(code, open, open.map((hz) => hz._id));
    // With signal, the photos of the hazards drawn below are kept for when the owner stands at the thing to fix,
    // often in the back of the shop with none (a no-op offline; the same list again costs nothing).
    void keepPhotos(photosToKeep(open, new Map(open.map((hz) => [hz._id, shown.get(hz._id)?.fix ?? null]))));
    const openAlarms = alarms.filter((a) => a.status !== 'resolved');
    const today = shanghaiDay();
    const closed = recentlyClosed(hazards, today);
    const ledgerPoints = new Map(ledger.map((e) => [e._id, e.points]));
    body.replaceChildren(
      ...present(
      h(
        'section',
        { class: 'week', 'data-week-done': String(doneThisWeek) },
        h('p', { class: doneThisWeek ? 'ok' : 'warn' }, t(doneThisWeek ? 'check.doneThisWeek' : 'check.notDoneThisWeek')),
        h(
          'a',
          { class: doneThisWeek ? 'button big' : 'button primary big', href: checkPath(code), 'data-action': 'check' },
          t(doneThisWeek ? 'owner.doCheckAgain' : 'owner.doCheck'),
        ),
        // Points come once a week: a second check earns none (its problems still count).
        doneThisWeek ? weekPointsLine(weekPoints(recent.map((c) => c._id), unsentChecks) ?? 'earned', 'muted') : null,
      ),
      score ? null : h('p', { class: 'muted' }, t('owner.notLoaded')),
      // The month's provisional list (本月暂列), from the synced score: what it means, and for the black list the way
      // off it before the month ends. The card above shows the list the office published, with its month, as the
      // street sees it; the two may differ, so this one always says it is this month's and not yet published.
      // A shop flagged already is not told that shops black-listed again and again will be.
      score?.list
        ? h(
            'p',
            { class: score.list === 'red' ? 'ok' : 'warn', 'data-list-explained': score.list },
            t(score.list === 'black' && score.working_group ? 'owner.list.blackGroup' : `owner.list.${score.list}`),
          )
        : null,
      tiedNote(score ? tiedOffList(score, rules) : null),
      rewards
        ? h(
            'section',
            { class: 'rewards', 'data-rewards': String(rewards.balance) },
            h('p', {}, t('owner.rewards', { n: rewards.balance })),
            h('p', { class: 'muted' }, t('owner.rewardsHint')),
            redemptionList(redemptions),
          )
        : null,
      openAlarms.length
        ? h(
            'section',
            { class: 'alarms' },
            h('h2', {}, t('owner.alarms')),
            h('p', { class: 'muted', 'data-alarms-explained': '' }, t('owner.alarmsHint')),
            h(
              'ul',
              {},
              ...openAlarms.map((a) =>
                h(
                  'li',
                  { class: 'alarm', 'data-alarm': a._id, 'data-status': a.status },
                  joinList(a.items.map((i) => label(items, i.item))),
                  h('span', { class: 'muted' }, ` · ${a.created_at.slice(0, 10)} · ${t(`alarm.${a.status}` as MessageKey)}`),
                ),
              ),
            ),
          )
        : null,
      h(
        'section',
        { class: 'hazards' },
        h('h2', {}, t('owner.hazards')),
        open.length === 0 && reported.length === 0
          ? h('p', { class: 'muted' }, t('owner.noHazards'))
          : h(
              'ul',
              { class: 'hazard-list' },
              // What the owner just reported: a hazard to fix once the server has it (after the upload).
              ...reported.map((r) => {
                const sev = items.get(r.item)?.severity ?? 'general';
                return h(
                  'li',
                  { class: `hazard ${sev} pending`, 'data-self-reported': r.item, 'data-shown': r.unsent ? 'unsent' : 'sent' },
                  h('strong', {}, label(items, r.item)),
                  ' ',
                  h('span', { class: `sev ${sev}` }, severity(sev)),
                  h('br'),
                  h('span', { class: 'muted' }, `${t('owner.selfReported')} · ${t(r.unsent ? 'owner.selfReportedUnsent' : 'owner.selfReportedSent')}`),
                );
              }),
              ...open.map((hz) => {
                const { state, pendingAt, fix } = shown.get(hz._id) ?? { state: 'fix' as const, pendingAt: null, fix: null };
                // A reported fix stops the clock: waiting for the grid worker is not overdue (unless it came late).
                const overdue = shownOverdue(hz, state, today, pendingAt);
                const rejected = rejectedFix(hz, state, verifications);
                return h(
                  'li',
                  {
                    class: `hazard ${hz.severity}`,
                    'data-hazard': hz._id,
                    'data-status': hz.status,
                    'data-shown': state,
                    'data-overdue': String(overdue),
                  },
                  h('strong', {}, label(items, hz.item)),
                  ' ',
                  h('span', { class: `sev ${hz.severity}` }, severity(hz.severity)),
                  h('br'),
                  h('span', { class: overdue ? 'warn' : 'muted' }, t('owner.deadline', { day: hz.deadline }), overdue ? ` · ${t('owner.overdue')}` : ''),
                  hazardCost(hz, rules, overdue, ledger, state),
                  hazardNote(hz),
                  // The fix sent shows beside the hazard's photo while it waits, and once the grid worker failed it.
                  cardPhotos(hz, sentFix(state, rejected, fix)),
                  rejected ? rejectedNotice(rejected) : null,
                  state === 'fix'
                    ? h('a', { class: 'button', href: rectifyPath(code, hz._id), 'data-action': 'rectify' }, t('owner.rectify'))
                    : h('p', { class: 'muted', 'data-rectify-state': state }, stateText(state)),
                );
              }),
            ),
      ),
      closed.length
        ? h(
            'section',
            { class: 'verified', 'data-verified-list': '' },
            h('h2', {}, t('owner.verifiedTitle')),
            h(
              'ul',
              { class: 'hazard-list' },
              ...closed.map((hz) => {
                const refund = refundOf(hz, rules?.refund_percent, ledgerPoints.get(`${code}:ledger:${hz._id.split(':')[2]}:refund`));
                const cost = hz.cost ?? 0;
                return h(
                  'li',
                  { class: 'closed', 'data-closed-hazard': hz._id, 'data-refund': String(refund.points) },
                  h('strong', {}, label(items, hz.item)),
                  ' ',
                  h('span', { class: 'muted' }, t('owner.verifiedOn', { day: hz.closed_at!.slice(0, 10) })),
                  h(
                    'p',
                    { class: refund.inTime ? 'ok' : 'muted' },
                    refund.inTime
                      ? refund.points > 0
                        ? t('owner.refundBack', { n: refund.points, cost })
                        : t('owner.refundInTime')
                      : t('owner.refundLate', { cost }),
                  ),
                );
              }),
            ),
          )
        : null,
      ledger.length ? ledgerSection(ledger, hazards, items, ledgerShown, () => {
        ledgerShown += LEDGER_PAGE;
        void render();
      }) : null,
      ),
    );
  };
  const out = signOutButton(() => navigate(shopPath(code), true));
  // What a form just saved, said once (../flash): the form closes on saving, and the owner saw the home come back
  // without a word that anything was kept (自查已保存，联网后自动上传).
  into.append(...present(savedNotice(message), body, h('nav', { class: 'actions small' }, out)));
  whileShown(body, () => void render(), 150);
  void render();
}

async function loadTemplates(code: string): Promise<Template[]> {
  const shop = await getDoc<ShopDoc>(`${code}:shop:${code}`);
  return applicableTemplates(shop?.category ?? null);
}

/** The week's points for the self-checks of this shop on the phone made this ISO week (`ids`, and which of them wait
 *  to upload): `earned` once one has reached the server, `pending` while all of them wait (the score has not moved:
 *  「已经得到」 read as false), null before the week's first. */
function weekPoints(ids: readonly string[], unsent: ReadonlySet<string>): 'earned' | 'pending' | null {
  const week = ids.filter((id) => isoWeek(ulidTime(id.split(':')[2] ?? '')) === isoWeek());
  if (week.length === 0) return null;
  return week.every((id) => unsent.has(id)) ? 'pending' : 'earned';
}

/** What the week's points are (`weekPoints`), from the phone's self-checks of this shop. */
async function checkedThisWeek(code: string): Promise<'earned' | 'pending' | null> {
  const since = selfChecksSince(code, 8 * 86_400_000);
  const rows = await localDb().allDocs({ startkey: since, endkey: `${code}:self_check:\ufff0` });
  const ids = rows.rows.map((r) => r.id);
  return weekPoints(ids, (await uploadState(ids)).unsent);
}

/** The line that says a second self-check this week earns no points, its points earned or waiting to upload. */
function weekPointsLine(points: 'earned' | 'pending', kind: 'muted' | 'notice'): HTMLElement {
  const attrs = kind === 'notice' ? { class: 'notice', role: 'status' } : { class: 'muted' };
  return h('p', { ...attrs, 'data-week-points': points }, t(points === 'earned' ? 'owner.weekPointsEarned' : 'owner.weekPointsPending'));
}

function guard(code: string): string | null {
  const session = currentSession();
  return session?.user.role === 'owner' && session.shop === code ? null : shopPath(code);
}

function message(text: string, kind: 'ok' | 'error' = 'ok'): HTMLElement {
  return h('p', { class: kind === 'ok' ? 'notice ok' : 'notice error', role: kind === 'ok' ? 'status' : 'alert' }, text);
}

const GPS_KEY = 'mashang.gpsConsent';

function gpsConsent(): HTMLInputElement {
  const box = h('input', { type: 'checkbox', name: 'gps' });
  box.checked = localStorage.getItem(GPS_KEY) === '1';
  box.addEventListener('change', () => localStorage.setItem(GPS_KEY, box.checked ? '1' : '0'));
  return box;
}

function backLink(code: string): HTMLElement {
  return h('a', { class: 'back', href: shopPath(code), 'data-action': 'back' }, `‹ ${t('owner.back')}`);
}

/** `/s/{code}/check`: one self_check event per applicable template, with photos; a draft as it is typed. */
export function checkView(code: string): View {
  const back = guard(code);
  const page = h('section', { class: 'page check', 'data-shop': code });
  const view = { title: `${t('check.title')} · ${code}`, node: page };
  if (back) {
    queueMicrotask(() => navigate(back, true));
    return view;
  }
  const intro = h('p', { class: 'muted' }, t('check.intro'));
  page.append(backLink(code), h('h1', {}, t('check.title')), intro);
  // A second check in the same ISO week earns no points (once a week): say so before it is filled in.
  void checkedThisWeek(code).then((points) => {
    if (points) intro.after(weekPointsLine(points, 'notice'));
  });
  const status = h('div', { class: 'status-area' });
  void (async () => {
    let templates = await loadTemplates(code);
    if (templates.length === 0) {
      // Right after the first sign-in the checklist may still be on its way down: wait for it.
      const waiting = message(t('check.noTemplate'), 'error');
      page.append(waiting);
      templates = await new Promise<Template[]>((resolve) => {
        let done = false;
        const look = (): void => {
          void loadTemplates(code).then((found) => {
            if (done || (!found.length && page.isConnected)) return;
            done = true;
            feed.cancel();
            if (page.isConnected) resolve(found);
          });
        };
        const feed = localDb().changes({ since: 'now', live: true }).on('change', look);
        // The first pull may have written the checklist between the first look and this subscription (its one
        // batch is often the whole download): look again now, or it would wait for a change that never comes.
        look();
      });
      waiting.remove();
    }
    // Read once the checklist is here (the first download brings the hazards with it); a failure only leaves the
    // lines out: they are no part of the answers.
    const hazardLines = openHazardLines(code).catch(() => new Map<string, HTMLElement[]>());
    const draftKey = `check:${code}`;
    // The photos too: one taken before its item is answered must come back with the draft (../draft-photos).
    const draft = loadDraft<{ answers: Answers; photos?: Record<string, string[]> }>(draftKey);
    const gps = gpsConsent();
    let save: Autosave | null = null;
    const form = buildChecklistForm(templates, {
      prefill: draft?.answers,
      prefillPhotos: draft?.photos,
      withPhotos: true,
      shop: code,
      get gps() {
        return gps.checked;
      },
      onChange: () => save?.touch(),
      saveDraft: () => save?.flush(),
    });
    save = autosave(draftKey, () => ({ answers: form.read(), photos: form.photos() }), {
      // An answer or a photo is what signing out would lose (../sign-out asks first); a form only opened is not.
      about: { kind: 'check', entered: (d) => Object.keys(d.answers).length > 0 || Object.values(d.photos).some((ids) => ids.length > 0) },
    });
    // An item's hazard not closed yet, under its question: the owner answers it knowing it is still to fix.
    for (const [item, lines] of await hazardLines) {
      form.node.querySelector(`fieldset[data-item="${CSS.escape(item)}"] > legend`)?.after(...lines);
    }
    const submit = h('button', { type: 'submit', class: 'primary big' }, t('check.submit'));
    const el = h(
      'form',
      { class: 'form checklist-form', novalidate: true, 'data-form': 'self-check' },
      draft ? message(t('check.draftRestored')) : null,
      h('label', { class: 'consent' }, gps, h('span', {}, t('check.gps'))),
      form.node,
      status,
      submit,
    );
    el.addEventListener('submit', (event) => {
      event.preventDefault();
      submit.disabled = true;
      void (async () => {
        try {
          await form.ready();
          const problems = form.problems();
          if (problems.length) {
            status.replaceChildren(h('ul', { class: 'problems', role: 'alert' }, ...problems.map((p) => h('li', {}, p))));
            return;
          }
          const answers = form.read();
          const ids = await appendEvents(
            templates.map((template) => ({
              type: 'self_check',
              shop: code,
              template: templateId(template),
              template_version: template.version,
              answers: Object.fromEntries(template.items.filter((i) => i.id in answers).map((i) => [i.id, answers[i.id]])),
            })),
          );
          save?.clear();
          flash(saved('check', ids));
          navigate(shopPath(code), true);
        } catch (err) {
          status.replaceChildren(message(isQuotaError(err) ? t('sync.storageFull') : String(err), 'error'));
        } finally {
          submit.disabled = false;
        }
      })();
    });
    page.append(el);
  })();
  return view;
}

/** `/s/{code}/rectify/{hazard}`: the owner reports a hazard fixed, with a photo or a note. */
export function rectifyView(code: string, hazardId: string): View {
  const back = guard(code);
  const page = h('section', { class: 'page rectify', 'data-shop': code, 'data-hazard': hazardId });
  const view = { title: `${t('owner.rectify')} · ${code}`, node: page };
  if (back) {
    queueMicrotask(() => navigate(back, true));
    return view;
  }
  void (async () => {
    const [hazard, items, verifications] = await Promise.all([
      getDoc<Hazard>(hazardId),
      allItems(),
      range<VerificationLike>(`${code}:verification:`),
    ]);
    const { state, fix } = (await fixStates(code, [hazard], [hazardId])).get(hazardId) ?? { state: 'fix' as const, fix: null };
    const rejected = hazard ? rejectedFix(hazard, state, verifications) : null;
    page.append(
      ...present(
      backLink(code),
      h('h1', {}, t('owner.rectify')),
      hazard
        ? h(
            'p',
            {},
            h('strong', {}, label(items, hazard.item)),
            ' · ',
            severity(hazard.severity),
            ' · ',
            // Overdue said here too, where the owner fixes it (the home said it; this screen gave the bare date).
            shownOverdue(hazard, state, shanghaiDay())
              ? h('span', { class: 'warn', 'data-overdue': 'true' }, `${t('owner.deadline', { day: hazard.deadline })} · ${t('owner.overdue')}`)
              : t('owner.deadline', { day: hazard.deadline }),
          )
        : null,
      hazard ? hazardNote(hazard) : null,
      // What the grid worker photographed, where the owner takes the fix's photo of the same spot; and, as on the
      // home's card, the fix already sent (waiting for the grid worker, or failed by them): what the owner sent.
      hazard ? cardPhotos(hazard, sentFix(state, rejected, fix)) : null,
      rejected ? rejectedNotice(rejected) : null,
      ),
    );
    if (state !== 'fix') {
      // Already rectified (maybe still on this phone, waiting to upload): a second one would only duplicate it.
      page.dataset.rectifyState = state;
      page.append(
        message(state === 'closed' ? t('owner.hazardClosed') : `${t('owner.rectifyAlready')} ${stateText(state)}`),
        h('nav', { class: 'actions' }, h('a', { class: 'button primary', href: shopPath(code) }, t('owner.back'))),
      );
      return;
    }
    const draftKey = `rectify:${hazardId}`;
    const draft = loadDraft<{ note: string; photos: string[] }>(draftKey);
    const photos: string[] = [...(draft?.photos ?? [])];
    const note = h('textarea', { name: 'note', rows: '3', maxlength: '2000' });
    note.value = draft?.note ?? '';
    const save = autosave(draftKey, () => ({ note: note.value, photos }), {
      about: { kind: 'rectify', entered: (d) => d.note.trim() !== '' || d.photos.length > 0 },
    });
    note.addEventListener('input', () => save.touch());
    const thumbs = h('div', { class: 'thumbs' });
    const remove = (id: string): void => {
      const at = photos.indexOf(id);
      if (at < 0) return;
      photos.splice(at, 1);
    };
    const show = (id: string): void => {
      thumbs.append(removableThumb(photoThumb(id), id, { label: t('check.removePhoto'), ask: t('check.removePhotoAsk') }, remove, () => save.flush()));
    };
    photos.forEach(show);
    const pending: Promise<unknown>[] = [];
    const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', id: 'rect-photo', 'data-photo-for': 'rectification', class: 'visually-hidden' });
    const status = h('div', { class: 'status-area' });
    input.addEventListener('change', () => {
      for (const file of Array.from(input.files ?? [])) {
        pending.push(
          savePhoto(code, file)
            .then((id) => {
              photos.push(id);
              show(id);
              save.flush();
            })
            .catch((err: unknown) => status.replaceChildren(message(isQuotaError(err) ? t('sync.storageFull') : String(err), 'error'))),
        );
      }
      input.value = '';
    });
    const submit = h('button', { type: 'submit', class: 'primary big' }, t('owner.rectifySubmit'));
    const form = h(
      'form',
      { class: 'form', novalidate: true, 'data-form': 'rectification' },
      // Labelled as on the home's card: the grid worker's photo above is not the one taken here.
      h(
        'div',
        { class: 'photos', 'data-photo-group': 'fix' },
        photoLabel('fix'),
        h('label', { class: 'button photo', for: 'rect-photo' }, t('check.takePhoto')),
        input,
        thumbs,
      ),
      h('label', { class: 'field' }, h('span', {}, t('owner.rectifyNote')), note),
      status,
      submit,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submit.disabled = true;
      void (async () => {
        try {
          await Promise.allSettled(pending);
          if (!photos.length && !note.value.trim()) {
            status.replaceChildren(message(t('owner.rectifyNeed'), 'error'));
            return;
          }
          // Another tab (or an earlier visit to this screen) may have rectified it meanwhile: never twice.
          const now = (await shownStates(code, [await getDoc<Hazard>(hazardId)], [hazardId])).get(hazardId) ?? 'fix';
          if (now !== 'fix') {
            status.replaceChildren(message(t('owner.rectifyAlready'), 'error'));
            return;
          }
          const id = await appendEvent({ type: 'rectification', shop: code, hazard: hazardId, note: note.value.trim(), photos: [...photos] });
          save.clear();
          flash(saved('rectify', [id]));
          navigate(shopPath(code), true);
        } catch (err) {
          status.replaceChildren(message(isQuotaError(err) ? t('sync.storageFull') : String(err), 'error'));
        } finally {
          submit.disabled = false;
        }
      })();
    });
    page.append(form);
  })();
  return view;
}
