// `/grid/s/{code}`: the shop's safety e-file (安全电子档案): its 负责人 and phone to call, score, alarms, hazards with
// their deadlines and fixes, the history of self-checks, patrols, rectifications and verifications with photos, and
// the actions.
import { h } from '../dom';
import type { View } from '../views';
import { uploadState, whileShown } from '../db';
import { loadDistrict, loadShopFile } from './data';
import type {
  AlarmDoc,
  EventDoc,
  HazardDoc,
  PatrolDoc,
  RectificationDoc,
  SelfCheckDoc,
  TemplateDoc,
  VerificationDoc,
} from './docs';
import { splitId } from './docs';
import {
  addDays,
  allHazards,
  dayOf,
  dueAt,
  isOverdue,
  pendingAlarms,
  pendingVerdict,
  rectificationsOf,
  statusToday,
  withoutRefused,
  type PendingAlarm,
  type ShopFile,
} from './due';
import { contactOf, contactParts } from '../contact';
import { joinList } from '../i18n';
import { namesHazard } from '../owner-hazards';
import { gt } from './i18n';
import { hazardItems } from './patrol-logic';
import type { District } from './rules';
import { badge, hazardName, itemName, notice, savedFlash, section, severityBadge, shortDay, templateOf, thumbs, type Tone } from './ui';
import { shanghaiDay } from '../ulid';

export function shopHref(code: string, sub = ''): string {
  return `/grid/s/${encodeURIComponent(code)}${sub}`;
}

/** The shop's 负责人 and phone as the office registered them, the phone a link that dials it (the shop is shut, the
 *  owner is out): nothing when none is registered. */
export function contactLine(value: unknown): HTMLElement | null {
  const contact = contactOf(value);
  if (!contact) return null;
  return h('p', { class: 'g-contact', 'data-contact': '' }, gt('efile.contact'), ' ', ...contactParts(contact, ' · '));
}

function hazardStatus(hazard: HazardDoc, today: string): HTMLElement {
  const status = statusToday(hazard, today);
  const tone: Tone = status === 'overdue' ? 'bad' : status === 'closed' ? 'ok' : 'warn';
  return badge(gt(`hazard.${status}`), tone, { 'data-status': status });
}

/** A hazard's photos under what they show: the worker's of the hazard and the owner's of the fix looked alike, one
 *  row above the other. Nothing where there are no photos. */
function photoRow(label: string, ids: readonly string[], kind: 'hazard' | 'fix'): HTMLElement | null {
  const row = thumbs(ids);
  return row && h('div', { class: 'g-photo-row', 'data-photos': kind }, h('div', { class: 'g-photo-label' }, label), row);
}

function hazardCard(file: ShopFile, hazard: HazardDoc, templates: TemplateDoc[], today: string): HTMLElement {
  const fix = rectificationsOf(file, hazard)[0];
  const key = hazard._id.split(':').slice(2).join(':');
  const actions = h('div', { class: 'g-row-actions' });
  const verdict = pendingVerdict(file, hazard);
  if (verdict) {
    actions.append(
      h('p', { class: 'muted', 'data-verdict-pending': verdict.passed ? 'passed' : 'failed' },
        gt(verdict.passed ? 'efile.verdictPassed' : 'efile.verdictFailed')),
    );
  } else if (hazard.status !== 'closed' && !hazard.provisional) {
    actions.append(
      h(
        'a',
        {
          class: hazard.status === 'rectified' ? 'button primary' : 'button',
          href: shopHref(file.shop.code, `/verify/${encodeURIComponent(key)}`),
          'data-action': 'verify',
        },
        hazard.status === 'rectified' ? gt('efile.verify') : gt('efile.fixOnSite'),
      ),
    );
  }
  return h(
    'li',
    { class: 'g-hazard', 'data-hazard': hazard._id, 'data-status': hazard.status },
    h('div', { class: 'g-shop-head' }, h('strong', {}, hazardName(templates, hazard.item)), hazardStatus(hazard, today)),
    h(
      'div',
      { class: 'g-badges' },
      severityBadge(hazard.severity),
      badge(hazard.self_reported ? gt('efile.selfReported') : gt('efile.patrolFound'), 'muted'),
      hazard.provisional ? badge(gt('event.pending'), 'warn', { 'data-provisional': '' }) : null,
    ),
    h(
      'div',
      { class: 'muted' },
      gt('efile.found', { day: shortDay(hazard.found_at) }),
      ' · ',
      hazard.status === 'closed' ? '' : gt('efile.deadline', { day: shortDay(hazard.deadline) }),
    ),
    hazard.note ? h('p', {}, hazard.note) : null,
    photoRow(gt('efile.hazardPhotos'), hazard.photos ?? [], 'hazard'),
    fix?.note ? h('p', { class: 'muted' }, gt('efile.rectificationNote', { note: fix.note })) : null,
    fix ? photoRow(gt('efile.fixPhotos'), fix.photos ?? [], 'fix') : null,
    actions.childElementCount ? actions : null,
  );
}

function alarmCard(alarm: AlarmDoc, templates: TemplateDoc[]): HTMLElement {
  return h(
    'li',
    { class: 'g-alarm', 'data-alarm': alarm._id, 'data-status': alarm.status },
    h(
      'div',
      { class: 'g-shop-head' },
      h('strong', {}, gt('alarm.at', { day: shortDay(alarm.created_at) })),
      badge(gt(`alarm.${alarm.status}`), alarm.status === 'resolved' ? 'ok' : 'bad'),
    ),
    h('div', {}, joinList(alarm.items.map((i) => hazardName(templates, i.item)))),
    alarmProgress(alarm),
  );
}

/** An alarm a patrol on this phone will raise (../due pendingAlarms), until the server's comes back in its place: on a
 *  day without signal the worker sees the serious finding registered, and when the office gets it. */
function pendingAlarmCard(alarm: PendingAlarm, templates: TemplateDoc[], upload: Upload): HTMLElement {
  const unsent = alarm.patrols.some((id) => upload.unsent.has(id));
  return h(
    'li',
    { class: 'g-alarm', 'data-alarm-pending': alarm.patrols.join(' '), 'data-status': 'pending' },
    h(
      'div',
      { class: 'g-shop-head' },
      h('strong', {}, gt('alarm.pendingAt', { day: shortDay(alarm.performed_at) })),
      badge(gt('alarm.pending'), 'bad'),
    ),
    h('div', {}, joinList(alarm.items.map((i) => hazardName(templates, i.item)))),
    h('p', { class: 'muted' }, gt(unsent ? 'alarm.pendingUnsent' : 'alarm.pendingSent')),
  );
}

const RESOLVED_SHOWN_DAYS = 30;

function recentlyResolved(alarm: AlarmDoc, today: string): boolean {
  const last = alarm.history?.at(-1);
  return last !== undefined && dayOf(last.at) >= addDays(today, -RESOLVED_SHOWN_DAYS);
}

/** Where the office has got with the alarm: its last step's day, and the department it went to (the worker is
 *  often the one the department calls). */
function alarmProgress(alarm: AlarmDoc): HTMLElement | null {
  const last = alarm.history?.at(-1);
  if (!last || last.status === 'open') return null;
  const department = alarm.department ?? last.department;
  return h(
    'div',
    { class: 'muted', 'data-alarm-step': last.status },
    gt('alarm.step', { status: gt(`alarm.${last.status}`), day: shortDay(last.at) }),
    department ? ` · ${gt('alarm.department', { department: gt(`dept.${department}`) })}` : '',
  );
}

/** A fix or a verdict names its hazard by the item (two entries 复核通过 on one day said nothing of which). */
function hazardLine(hazards: readonly HazardDoc[], templates: TemplateDoc[], id: string): HTMLElement {
  const known = hazards.find((hz) => namesHazard(hz, id));
  // A hazard this phone no longer has (merged into another): the item or finding its id ends with ({key}-{item}).
  const rest = splitId(id)[2].split('-').slice(1).join('-');
  const item = known?.item ?? (rest.startsWith('other') ? 'other' : rest);
  return h('div', { class: 'muted', 'data-hazard-of': id }, gt('event.hazard', { item: hazardName(templates, item) }));
}

/** This device's records the server has not got yet, and those it refused. */
interface Upload {
  unsent: Set<string>;
  refused: Set<string>;
}

function uploadBadge(id: string, upload: Upload): HTMLElement | null {
  if (upload.refused.has(id)) return badge(gt('event.refused'), 'bad', { 'data-refused': '' });
  return upload.unsent.has(id) ? badge(gt('event.waiting'), 'warn', { 'data-unsent': '' }) : null;
}

/** What the e-file's records need besides the record: the templates, the hazards, what waits or was refused, and the
 *  patrols whose alarm is still to go up (`pendingAlarms`). */
interface Context {
  templates: TemplateDoc[];
  hazards: readonly HazardDoc[];
  upload: Upload;
  alarming: ReadonlySet<string>;
}

function historyEntry(doc: EventDoc, { templates, hazards, upload, alarming }: Context): HTMLElement {
  const parts: (string | HTMLElement | null)[] = [];
  let photos: string[] = [];
  if (doc.type === 'self_check') {
    const check = doc as SelfCheckDoc;
    const template = templateOf(templates, check.template, check.template_version);
    const found = template ? hazardItems(template, check.answers) : [];
    parts.push(found.length ? gt('event.hazards', { n: found.length }) : gt('event.clean'));
    if (found.length) parts.push(h('div', { class: 'muted' }, joinList(found.map((i) => itemName(templates, i)))));
    photos = Object.values(check.answers).flatMap((a) => a.photos ?? []);
  } else if (doc.type === 'patrol') {
    const patrol = doc as PatrolDoc;
    const findings = patrol.findings ?? [];
    parts.push(findings.length ? gt('event.findings', { n: findings.length }) : gt('event.clean'));
    if (patrol.verified_self_checks?.length) parts.push(' · ' + gt('event.verified', { n: patrol.verified_self_checks.length }));
    if (findings.length)
      parts.push(h('div', { class: 'muted' }, joinList(findings.map((f) => itemName(templates, f.item)))));
    if (alarming.has(patrol._id)) {
      const note = gt(upload.unsent.has(patrol._id) ? 'alarm.pendingUnsent' : 'alarm.pendingSent');
      parts.push(h('div', { 'data-patrol-alarm': '' }, badge(gt('alarm.pending'), 'bad'), ' ', note));
    }
    photos = [
      ...Object.values(patrol.answers).flatMap((a) => a.photos ?? []),
      ...findings.flatMap((f) => f.photos ?? []),
    ];
  } else if (doc.type === 'rectification') {
    const fix = doc as RectificationDoc;
    parts.push(hazardLine(hazards, templates, fix.hazard));
    if (fix.note) parts.push(fix.note);
    photos = fix.photos ?? [];
  } else if (doc.type === 'verification') {
    const verdict = doc as VerificationDoc;
    parts.push(verdict.passed ? gt('event.passed') : gt('event.failed'));
    if (verdict.note) parts.push(' · ' + verdict.note);
    parts.push(hazardLine(hazards, templates, verdict.hazard));
    photos = verdict.photos ?? [];
  }
  return h(
    'li',
    { class: 'g-event', 'data-event': doc._id, 'data-type': doc.type },
    h(
      'div',
      { class: 'g-shop-head' },
      h('strong', {}, gt(`event.${doc.type as 'self_check' | 'patrol' | 'rectification' | 'verification'}`)),
      uploadBadge(doc._id, upload),
      h('span', { class: 'muted' }, shortDay(doc.performed_at)),
    ),
    h('div', {}, ...parts),
    thumbs([...new Set(photos)]),
  );
}

const HISTORY_TYPES = new Set(['self_check', 'patrol', 'rectification', 'verification']);

function render(file: ShopFile, district: District, upload: Upload): HTMLElement[] {
  const templates = [...district.templates];
  const now = new Date();
  const today = shanghaiDay(now.getTime());
  // What counts (what is due, the hazards, the verdicts) leaves out what the server refused; the history shows it.
  const counted = withoutRefused(file, upload.refused);
  const due = dueAt(counted, now, district);
  const score = file.score;
  const code = file.shop.code;

  const scoreboard = h(
    'dl',
    { class: 'scoreboard' },
    h('div', {}, h('dt', {}, gt('efile.score')), h('dd', { class: 'figure', 'data-score': '' }, score ? String(score.points) : '—')),
    h(
      'div',
      {},
      h('dt', {}, gt('efile.rank')),
      h('dd', { class: 'figure', 'data-rank': '' }, score?.rank ? String(score.rank) : '—'),
      score?.rank && score.of ? h('dd', { class: 'of' }, gt('efile.rankOf', { of: score.of })) : null,
    ),
  );
  const lists = h('div', { class: 'g-badges' });
  if (score?.list === 'red') lists.append(badge(gt('efile.red'), 'ok'));
  if (score?.list === 'black') lists.append(badge(gt('efile.black'), 'bad'));
  if ((score as { working_group?: boolean } | null)?.working_group) lists.append(badge(gt('efile.workingGroup'), 'bad'));
  const shopClosed = file.shop.status === 'closed';
  // A closed shop: its owner's account is off and it is ranked no more (its rank shows —), so say why instead.
  lists.append(
    shopClosed
      ? badge(gt('due.closed'), 'bad', { 'data-shop-closed': '' })
      : badge(file.shop.owner_activated ? gt('efile.ownerActivated') : gt('efile.ownerNotActivated'), file.shop.owner_activated ? 'ok' : 'warn'),
  );

  const actions = h(
    'nav',
    { class: 'actions' },
    h(
      'a',
      { class: due.patrolDue ? 'button primary' : 'button', href: shopHref(code, '/patrol'), 'data-action': 'patrol' },
      due.patrolDue ? gt('efile.patrol') : gt('efile.patrolDone'),
    ),
    shopClosed ? null : h('a', { class: 'button', href: shopHref(code, '/activation'), 'data-action': 'activation' }, gt('efile.activation')),
  );

  // Open alarms, and those the office closed in the last month: the worker sees how it ended, not a vanished alarm.
  const openAlarms = file.alarms.filter((a) => a.status !== 'resolved' || recentlyResolved(a, today));
  // Those a patrol on this phone will raise: the worker's serious finding registered, before the server has it.
  const pending = pendingAlarms(counted, district);
  const hazards = allHazards(counted);
  const unresolved = hazards.filter((hz) => hz.status !== 'closed');
  // What needs the worker first: fixes to verify, then overdue, then the nearest deadline.
  const rank = (hz: HazardDoc): number => (hz.status === 'rectified' ? 0 : isOverdue(hz, today) ? 1 : 2);
  unresolved.sort((a, b) => rank(a) - rank(b) || (a.deadline < b.deadline ? -1 : a.deadline > b.deadline ? 1 : 0));
  const closed = hazards.filter((hz) => hz.status === 'closed');

  const history = [...file.selfChecks, ...file.patrols, ...(file.others.filter((d) => HISTORY_TYPES.has(d.type)) as EventDoc[])]
    .sort((a, b) => Date.parse(b.performed_at) - Date.parse(a.performed_at))
    .slice(0, 60);

  // The records of the patrols (modules) whose findings raise them.
  const alarming = new Set(pending.flatMap((a) => a.items.map((i) => i.patrol)));
  const context: Context = { templates, hazards, upload, alarming };
  const closedList = keptOpen(
    `${code}:closed`,
    h('details', { class: 'g-closed' }, h('summary', {}, gt('efile.closedHazards', { n: closed.length }))),
  );
  closedList.append(h('ul', { class: 'g-list' }, ...closed.map((hz) => hazardCard(counted, hz, templates, today))));
  // The latest records in view; a year of them (each with its photos) under one tap, not a long scroll on a phone.
  const recent = history.slice(0, RECENT);
  const older = history.slice(RECENT);
  const olderList = older.length
    ? keptOpen(
        `${code}:history`,
        h(
          'details',
          { class: 'g-closed', 'data-older': '' },
          h('summary', {}, gt('efile.olderRecords', { n: older.length })),
          h('ul', { class: 'g-list' }, ...older.map((d) => historyEntry(d, context))),
        ),
      )
    : null;

  return [
    h('h1', { 'data-shop-name': '' }, file.shop.name),
    h('p', { class: 'shop-code' }, `${code} · ${file.shop.address}`),
    contactLine(file.shop.contact),
    h(
      'p',
      { class: 'muted' },
      due.lastPatrol ? gt('due.lastPatrol', { day: shortDay(due.lastPatrol) }) : gt('due.neverPatrolled'),
      ' · ',
      due.lastSelfCheck ? gt('efile.lastSelfCheck', { day: shortDay(due.lastSelfCheck) }) : gt('efile.neverSelfChecked'),
    ),
    scoreboard,
    lists,
    actions,
    openAlarms.length || pending.length
      ? section(
          gt('efile.alarms'),
          h(
            'ul',
            { class: 'g-list' },
            ...pending.map((a) => pendingAlarmCard(a, templates, upload)),
            ...openAlarms.map((a) => alarmCard(a, templates)),
          ),
        )
      : null,
    section(
      gt('efile.hazards'),
      unresolved.length
        ? h('ul', { class: 'g-list' }, ...unresolved.map((hz) => hazardCard(counted, hz, templates, today)))
        : notice(gt('efile.noHazards'), 'ok'),
      closed.length ? closedList : null,
    ),
    section(
      gt('efile.history'),
      history.length ? h('ul', { class: 'g-list' }, ...recent.map((d) => historyEntry(d, context))) : notice(gt('efile.noHistory')),
      olderList,
    ),
  ].filter((n): n is HTMLElement => n !== null);
}

const RECENT = 10; // records shown before "older records"
// The <details> the worker opened stay open when the e-file is drawn again (on every change to the local database).
const opened = new Set<string>();

function keptOpen(key: string, details: HTMLElement): HTMLElement {
  const box = details as HTMLDetailsElement;
  box.open = opened.has(key);
  box.addEventListener('toggle', () => {
    if (box.open) opened.add(key);
    else opened.delete(key);
  });
  return box;
}

export function efileView(code: string): View {
  const node = h('section', { class: 'page grid grid-efile', 'data-shop': code });
  const back = h('a', { class: 'g-back', href: '/grid' }, `‹ ${gt('shop.back')}`);
  // A verification just saved (./verify goes back here), said above the file through its redraws; gone once removed.
  const saved = savedFlash();
  let drawn = false;
  const reload = (): void => {
    void (async () => {
      const file = await loadShopFile(code);
      if (!file) {
        node.replaceChildren(back, notice(gt('shop.missing', { code }), 'warn'));
        return;
      }
      const events = [...file.patrols, ...file.selfChecks, ...file.others].map((d) => d._id);
      const upload = await uploadState(events).catch(() => ({ unsent: new Set<string>(), refused: new Set<string>() }));
      const kept = saved && (!drawn || saved.parentNode === node) ? [saved] : [];
      drawn = true;
      node.replaceChildren(back, ...kept, ...render(file, await loadDistrict(), upload));
    })();
  };
  whileShown(node, reload); // listen first, then read (see the list); it follows what waits and what was refused too
  reload();
  return { title: `${code} · ${gt('efile.title')}`, node };
}
