// The alarm desk: unresolved alarms, live from the server-sent event stream the office follows on every screen
// (./watch), acknowledged → dispatched to a department → resolved, with notes.
import { h } from '../dom';
import { getLang, joinList } from '../i18n';
import { shanghaiDay } from '../ulid';
import { ApiError, get, qs, reasonOf, send } from './api';
import { photoThumb } from './photo';
import { when } from './format';
import { label, officeZh, ot } from './i18n';
import type { Screen } from './main';
import { officePath } from './main';
import { type Crews, type Names, gridCrews, personName, staffNames } from './people';
import { isScoped } from './reach';
import { checklistItems, type Items } from './shops';
import { badge, button, select } from './ui';
import type { SseEvent, StreamState } from './sse';
import { listen } from './watch';

export const DEPARTMENTS = ['fire', 'gas', 'market', 'emergency'] as const;
const ACTIVE = ['open', 'acknowledged', 'dispatched'] as const;
const PAGE = 200; // alarms of a status per page; more with 更多
const NOTE_MAX = 500; // server/models/common.py MAX_NOTE

export interface AlarmStep {
  status: string;
  at: string;
  by: string;
  department?: string | null;
  note?: string;
}

/** One item of an alarm, with what the server joins to it from its hazard (`server/alarm_findings.py`): the
 *  finding's note and where the hazard stands now (null when the hazard could not be read). */
export interface AlarmItem {
  item: string;
  severity: string;
  hazard: string;
  photos?: string[];
  note?: string;
  hazard_status?: string | null;
  deadline?: string | null;
}

export interface Alarm {
  _id: string;
  shop: string;
  status: string;
  shop_name?: string | null;
  address?: string | null;
  grid?: string | null;
  grid_worker?: string | null;
  source?: string;
  items: AlarmItem[];
  cost?: number;
  department?: string | null;
  created_at: string;
  history: AlarmStep[];
}

interface Page {
  items: Alarm[];
  next?: string | null; // `before=` for the next page, when there is one
  counts?: Record<string, number>;
}

/** The items' photos, through the office photo endpoint (a photo still on its way from the phone shows later). */
function photos(alarm: Alarm): HTMLElement | null {
  const ids = [...new Set(alarm.items.flatMap((i) => i.photos ?? []))];
  if (ids.length === 0) return null;
  return h(
    'div',
    { class: 'photos' },
    ...ids.slice(0, 8).map((id) => photoThumb(id, ot('efile.photos'))),
  );
}

/** A checklist item in words: the desk's own wording of the hazard (灭火器过期), else the template's label (an item the
 *  office added), else its id. */
function itemWords(id: string, known: Items): string {
  if (`item.${id}` in officeZh) return label('item', id);
  const item = known.get(id);
  return item ? (getLang() === 'en' ? item.label_en : item.label_zh) : id;
}

/** Where a finding's hazard stands today: its status, overdue as soon as its deadline has passed (the server marks
 *  it just after midnight), with the deadline while it is still to be fixed. Null when the server could not tell. */
function hazardNow(it: AlarmItem, today: string): { status: string; text: string } | null {
  if (!it.hazard_status) return null;
  const status = it.hazard_status === 'open' && it.deadline && it.deadline < today ? 'overdue' : it.hazard_status;
  const due = (status === 'open' || status === 'overdue') && it.deadline ? ` · ${ot('efile.deadline')} ${it.deadline}` : '';
  return { status, text: `${label('hazard', status)}${due}` };
}

/** What was found, one line an item: severity, the item in words, the worker's or owner's note, the hazard today. */
function findings(alarm: Alarm, known: Items, today: string): HTMLElement {
  return h(
    'ul',
    { class: 'items', 'aria-label': ot('alarms.items') },
    ...alarm.items.map((it) => {
      const now = hazardNow(it, today);
      return h(
        'li',
        { 'data-item': it.item, 'data-hazard-status': now?.status },
        badge(label('severity', it.severity), `sev ${it.severity}`),
        ' ',
        h('span', { 'data-field': 'item' }, itemWords(it.item, known)),
        it.note ? h('span', { class: 'finding-note', 'data-field': 'note' }, ` · ${it.note}`) : '',
        now ? h('span', { 'data-field': 'hazard' }, ' · ', badge(now.text, `hz ${now.status}`)) : '',
      );
    }),
  );
}

/** The hazards behind the alarm that are not closed (销号) yet, each in words with where it stands. */
function openHazards(alarm: Alarm, known: Items, today: string): string[] {
  return alarm.items.flatMap((it) => {
    const now = hazardNow(it, today);
    const words = itemWords(it.item, known);
    return now && now.status !== 'closed' ? [getLang() === 'en' ? `${words} (${now.text})` : `${words}（${now.text}）`] : [];
  });
}

/** Beside 办结: the hazards behind the alarm that are not closed yet. Resolving stays allowed. */
function notClosed(alarm: Alarm, known: Items, today: string): HTMLElement | null {
  const open = openHazards(alarm, known, today);
  if (open.length === 0) return null;
  return h(
    'span',
    { class: 'not-closed', 'data-hazards-not-closed': String(open.length) },
    ot('alarms.hazardsNotClosed', { items: joinList(open) }),
  );
}

/** What 办结 asks before a step nothing undoes: the card's warning of the hazards not closed yet first (resolving
 *  stays allowed, but not unknowingly), then the question, which says plainly when nobody was sent. */
function resolveQuestion(alarm: Alarm, known: Items, today: string): string {
  const ask = ot(alarm.status === 'dispatched' ? 'alarms.resolveConfirm' : 'alarms.resolveUndispatched');
  const open = openHazards(alarm, known, today);
  return open.length ? `${ot('alarms.hazardsNotClosed', { items: joinList(open) })}\n${ask}` : ask;
}

function history(alarm: Alarm, names: Names): HTMLElement {
  return h(
    'ol',
    { class: 'history', 'aria-label': ot('alarms.history') },
    ...alarm.history.map((step) =>
      h(
        'li',
        { 'data-step': step.status },
        h('strong', {}, label('status', step.status)),
        ` · ${when(step.at)} · ${personName(names, step.by)}`,
        step.department ? ` · ${label('dept', step.department)}` : '',
        step.note ? h('span', { class: 'note' }, ` · ${step.note}`) : '',
      ),
    ),
  );
}

function actions(
  alarm: Alarm,
  replace: (a: Alarm, sent?: string) => void,
  known: Items,
  today: string,
): HTMLElement | null {
  if (alarm.status === 'resolved') return null;
  const note = h('textarea', {
    name: 'note',
    rows: '2',
    maxlength: String(NOTE_MAX), // the server's limit: a longer note was refused with its English reason
    placeholder: ot('alarms.notePlaceholder'),
    'aria-label': ot('alarms.notePlaceholder'), // a name that stays once the placeholder gives way to typing
  });
  const status = h('p', { class: 'form-status', role: 'status' });
  const step = (path: string, body: Record<string, string>) => async (): Promise<void> => {
    status.replaceChildren();
    try {
      const text = note.value.trim();
      const updated = await send<Alarm>('POST', `/api/office/alarms/${encodeURIComponent(alarm._id)}/${path}`, {
        ...body,
        ...(text ? { note: text } : {}),
      });
      replace(updated, text);
    } catch (err) {
      status.className = 'form-status error';
      if (err instanceof ApiError && err.status === 409) {
        // Someone else took a step meanwhile (the live list had not shown it yet): show the alarm as it is now.
        try {
          const now = await get<Alarm>(`/api/office/alarms/${encodeURIComponent(alarm._id)}`);
          const typed = note.value.trim();
          replace(now);
          const card = document.querySelector(`[data-alarm-id="${CSS.escape(alarm._id)}"]`);
          const said = ot('alarms.changedMeanwhile', { status: label('status', now.status) });
          // A closed alarm's card has no form: the message goes on the card itself, with the note that was not
          // saved (it was typed for a step that did not happen), so that it is not lost unseen.
          let line = card?.querySelector('.form-status');
          if (card && !line) card.append((line = h('p', { class: 'form-status', role: 'status' })));
          if (line) {
            line.className = 'form-status error';
            line.textContent = typed && now.status === 'resolved' ? `${said} ${ot('alarms.noteNotSaved', { note: typed })}` : said;
          }
          return;
        } catch {
          // the alarm could not be read again: say what the server said
        }
      }
      status.textContent = `${ot('common.failed')}: ${reasonOf(err)}`;
    }
  };
  const dept = select(
    'department',
    DEPARTMENTS.map((d) => [d, ot(`dept.${d}`)] as [string, string]),
    alarm.department ?? 'fire',
  );
  dept.addEventListener('change', () => (dept.dataset.chosen = '1'));
  const buttons: HTMLElement[] = [];
  if (alarm.status === 'open') {
    const ack = button(ot('alarms.ack'), step('ack', {}), 'primary');
    ack.dataset.action = 'ack';
    buttons.push(ack);
  }
  if (alarm.status === 'open' || alarm.status === 'acknowledged') {
    const go = button(ot('alarms.dispatch'), () => step('dispatch', { department: dept.value })());
    go.dataset.action = 'dispatch';
    buttons.push(h('label', { class: 'inline' }, ot('alarms.department'), dept), go);
  }
  // No step comes after 办结 and none goes back: asked first (resolveQuestion).
  const done = button(ot('alarms.resolve'), () =>
    confirm(resolveQuestion(alarm, known, today)) ? step('resolve', {})() : undefined,
  );
  done.dataset.action = 'resolve';
  buttons.push(done);
  const warning = notClosed(alarm, known, today);
  if (warning) buttons.push(warning);
  return h('div', { class: 'alarm-actions' }, note, h('div', { class: 'row' }, ...buttons), status);
}

/** A card drawn again keeps the note being typed and the department chosen on the card it replaces. Drawn from the
 *  answer to this desk's own step (`sent`: the note that step carried), it does not keep the note that step sent; a
 *  note typed since is kept, and so is a department chosen since: the stream may have drawn the step's card first,
 *  and the clerk typed the next step's note there, or chose where to dispatch it, before the answer came (the note
 *  was lost and the step after went without it; 燃气 chosen after 确认 went back to 消防 and was dispatched so). A
 *  dispatch's own answer has no department to choose any more. */
export function keepTyping(old: HTMLElement, card: HTMLElement, sent?: string): void {
  const was = old.querySelector<HTMLTextAreaElement>('textarea[name="note"]');
  const note = card.querySelector<HTMLTextAreaElement>('textarea[name="note"]');
  if (was && note && was.value && was.value.trim() !== sent) {
    note.value = was.value;
    if (document.activeElement === was) queueMicrotask(() => note.focus());
  }
  const chose = old.querySelector<HTMLSelectElement>('select[name="department"]');
  const dept = card.querySelector<HTMLSelectElement>('select[name="department"]');
  if (chose?.dataset.chosen && dept) {
    dept.value = chose.value;
    dept.dataset.chosen = '1';
  }
}

/** Who is on the spot: the patrol's grid worker, or (an owner's self-check raised it) the shop's grid's. */
function gridWorkers(alarm: Alarm, names: Names, crews: Crews): string {
  const ids = alarm.grid_worker ? [alarm.grid_worker] : (crews.get(alarm.grid ?? '') ?? []);
  return ids.length ? ` · ${ot('alarms.gridWorker')} ${joinList(ids.map((id) => personName(names, id)))}` : '';
}

export function alarmCard(
  alarm: Alarm,
  replace: (a: Alarm, sent?: string) => void,
  names: Names = new Map(),
  crews: Crews = new Map(),
  known: Items = new Map(),
  today: string = shanghaiDay(),
): HTMLElement {
  const source = /^[^:]+:([a-z_]+):/.exec(alarm.source ?? '')?.[1];
  return h(
    'article',
    { class: `alarm-card status-${alarm.status}`, 'data-alarm-id': alarm._id, 'data-status': alarm.status },
    h(
      'header',
      {},
      h('h3', { 'data-field': 'shop-name' }, alarm.shop_name ?? alarm.shop),
      badge(label('status', alarm.status), `status ${alarm.status}`),
      alarm.department ? badge(label('dept', alarm.department), 'dept') : null,
    ),
    h(
      'p',
      { class: 'meta' },
      h('a', { href: officePath('shops', alarm.shop) }, alarm.shop),
      ` · ${alarm.address ?? ''}`,
      gridWorkers(alarm, names, crews),
      source ? ` · ${ot('alarms.source', { kind: label('kind', source) })}` : '',
      ` · ${ot('alarms.raisedAt')} ${when(alarm.created_at)}`,
      typeof alarm.cost === 'number' ? ` · ${ot('alarms.cost')} ${alarm.cost}` : '',
    ),
    findings(alarm, known, today),
    photos(alarm),
    history(alarm, names),
    actions(alarm, replace, known, today),
  );
}

export const alarms: Screen = (query) => {
  const tab = query.get('status') === 'resolved' ? 'resolved' : 'active';
  const live = h('span', { class: 'live', 'data-stream-state': 'connecting' }, ot('alarms.connecting'));
  const list = h('div', { class: 'alarm-list', 'aria-busy': 'true' });
  const counts = h('nav', { class: 'tabs' });
  const root = h('div', { class: 'screen alarms' }, h('h1', {}, ot('alarms.title'), ' ', live), counts, list);
  const shown = new Map<string, HTMLElement>();
  let names: Names = new Map(); // ids, when the names cannot be read
  let crews: Crews = new Map();
  let known: Items = new Map(); // the templates' items, for an item the desk has no words of its own for
  // Every card waits for the names: the list's first page and the stream's events alike, in their order.
  const named = Promise.all([
    staffNames().then((found) => (names = found), () => undefined),
    gridCrews().then((found) => (crews = found), () => undefined),
    checklistItems().then((found) => (known = found), () => undefined),
  ]);
  const wanted = (a: Alarm): boolean => (tab === 'resolved' ? a.status === 'resolved' : a.status !== 'resolved');

  const put = (alarm: Alarm, first = false, sent?: string): void => {
    const card = alarmCard(alarm, (a, note) => put(a, false, note), names, crews, known);
    const old = shown.get(alarm._id);
    if (old) keepTyping(old, card, sent); // what is being typed stays; what this desk's step sent goes
    if (old) old.replaceWith(card);
    else if (first) list.prepend(card);
    else if (more.isConnected) list.insertBefore(card, more); // the cards above 加载更多
    else list.append(card);
    shown.set(alarm._id, card);
    list.querySelector('.empty')?.remove();
  };

  const renderCounts = (c: Record<string, number>): void => {
    const active = ACTIVE.reduce((n, s) => n + (c[s] ?? 0), 0);
    counts.replaceChildren(
      // The alarms not resolved, by the overview's name for the same figure (未办结报警), then each status of them.
      h('a', { href: officePath('alarms'), 'aria-current': tab === 'active' ? 'page' : undefined, 'data-count': String(active) },
        ot('alarms.unresolvedTab', { n: active, parts: ACTIVE.map((s) => `${label('status', s)} ${c[s] ?? 0}`).join(' · ') })),
      h('a', { href: `${officePath('alarms')}?status=resolved`, 'aria-current': tab === 'resolved' ? 'page' : undefined },
        `${label('status', 'resolved')} ${c.resolved ?? 0}`),
    );
  };

  // Where each status's list goes on (`before=`), while there is more than the first page shows.
  const cursors = new Map<string, string>();
  const more = button(ot('alarms.more'), () => void loadMore());
  more.dataset.action = 'more';
  const fetchPages = async (statuses: string[]): Promise<Alarm[]> => {
    const pages = await Promise.all(
      statuses.map((s) => get<Page>(`/api/office/alarms${qs({ status: s, limit: PAGE, before: cursors.get(s) })}`)),
    );
    statuses.forEach((s, i) => {
      const next = pages[i]?.next;
      if (next) cursors.set(s, next);
      else cursors.delete(s);
    });
    if (pages[0]?.counts) renderCounts(pages[0].counts);
    more.hidden = cursors.size === 0;
    return pages.flatMap((p) => p.items).sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  };
  const loadMore = async (): Promise<void> => {
    const items = await fetchPages([...cursors.keys()]);
    for (const a of items) if (!shown.has(a._id)) put(a);
    list.append(more);
  };
  // The alarms the stream told of while a reload read the list. The stream is live before the desk opens (./watch),
  // and a list read before a new alarm came replaced the card the stream had drawn meanwhile: the desk did not show
  // the alarm until it was opened again.
  const loading = new Set<Set<string>>();
  const reload = async (): Promise<void> => {
    const heard = new Set<string>();
    loading.add(heard);
    let items: Alarm[];
    try {
      cursors.clear();
      [items] = await Promise.all([fetchPages(tab === 'resolved' ? ['resolved'] : [...ACTIVE]), named]);
    } finally {
      loading.delete(heard);
    }
    // What the stream told is newer than the list: its cards stay as they are (a step may be under way on one),
    // and an alarm it withdrew stays off.
    const drawn = new Map([...shown].filter(([id]) => heard.has(id)));
    list.replaceChildren();
    shown.clear();
    for (const a of items) {
      const card = drawn.get(a._id);
      if (card) {
        list.append(card);
        shown.set(a._id, card);
        drawn.delete(a._id);
      } else if (!heard.has(a._id)) put(a);
    }
    for (const [id, card] of drawn) {
      list.prepend(card); // new since the list was read
      shown.set(id, card);
    }
    if (shown.size === 0) list.append(h('p', { class: 'muted empty' }, ot('alarms.empty')));
    list.append(more);
    list.removeAttribute('aria-busy');
  };
  void reload().catch((err: unknown) => list.replaceChildren(h('p', { class: 'error' }, reasonOf(err))));

  const onEvent = (event: SseEvent): void => {
    if (event.event === 'reset') {
      void reload().catch(() => undefined);
      return;
    }
    if (event.event !== 'alarm') return;
    const { change, alarm } = JSON.parse(event.data) as { change: string; alarm: Alarm };
    void named.then(() => show(change, alarm));
  };
  const show = (change: string, alarm: Alarm): void => {
    for (const heard of loading) heard.add(alarm._id);
    if (change === 'withdrawn') {
      // The submission's alarm has another id now (its checklist modules arrived out of order): one card, not two.
      shown.get(alarm._id)?.remove();
      shown.delete(alarm._id);
    } else if (wanted(alarm) || shown.has(alarm._id)) put(alarm, change === 'new' && !shown.has(alarm._id));
  };
  const states: Record<StreamState, string> = {
    connecting: ot('alarms.connecting'),
    live: ot('alarms.live'),
    retrying: ot('alarms.retrying'),
  };
  listen({
    owner: root, // the desk stops hearing the stream once it has left the page (another screen, signed out)
    event: onEvent,
    counts: renderCounts, // counted again by ./watch after each event
    state: (state) => {
      live.dataset.streamState = state;
      live.textContent = states[state];
    },
  });
  if (!isScoped()) root.append(webhookLog()); // the webhook carries every sub-district's alarms: the district's
  return root;
};

interface Delivery {
  delivery: string;
  event: string;
  alarm?: string | null;
  shop?: string | null;
  attempt: number;
  of?: number | null;
  ok: boolean;
  status?: number | null;
  error?: string | null;
  at: string;
  next_at?: string | null;
  given_up?: boolean;
  interrupted?: boolean; // cut short by a stop of the server: the next start tries it again
  sending?: boolean; // gone out, its answer not come yet
}

/** The webhook's last attempts (`GET /api/office/webhook/deliveries`), read when unfolded: whether each alarm
 *  reached the receiver the office set up, and when a failed one is tried next or was given up. */
export function webhookLog(): HTMLElement {
  const box = h('div', {});
  const panel = h('details', { class: 'webhook-log', 'data-webhook-log': '' }, h('summary', {}, ot('webhook.title')), box);
  const load = async (): Promise<void> => {
    box.replaceChildren(h('p', { class: 'muted' }, ot('common.loading')));
    try {
      const answer = await get<{ configured?: boolean; items?: Delivery[] }>('/api/office/webhook/deliveries?limit=50');
      if (!answer.configured) {
        box.replaceChildren(h('p', { class: 'muted', 'data-webhook': 'unset' }, ot('webhook.unset')));
        return;
      }
      const rows = answer.items ?? [];
      const outcome = (d: Delivery): string =>
        d.ok
          ? ot('webhook.ok', { status: String(d.status ?? '') })
          : d.sending
            ? ot('webhook.sending')
            : d.interrupted
              ? ot('webhook.interrupted')
              : `${ot('webhook.failed')}${d.error ? `：${d.error}` : ''}`;
      const next = (d: Delivery): string =>
        d.ok
          ? ''
          : d.given_up
            ? ot('webhook.givenUp')
            : d.next_at
              ? ot('webhook.nextAt', { at: when(d.next_at) })
              : d.interrupted
                ? ot('webhook.nextStart')
                : '';
      box.replaceChildren(
        rows.length === 0
          ? h('p', { class: 'muted' }, ot('webhook.none'))
          : h('table', { class: 'data' },
              h('thead', {}, h('tr', {}, ...(['webhook.at', 'webhook.alarm', 'webhook.attempt', 'webhook.outcome', 'webhook.next'] as const)
                .map((k) => h('th', {}, ot(k))))),
              h('tbody', {}, ...rows.map((d) =>
                h('tr', { 'data-delivery': d.delivery, 'data-ok': String(d.ok), 'data-given-up': d.given_up ? '' : undefined, 'data-interrupted': d.interrupted ? '' : undefined, 'data-sending': d.sending ? '' : undefined },
                  h('td', {}, when(d.at)),
                  h('td', {}, d.shop ? h('a', { href: officePath('shops', d.shop) }, d.shop) : '', d.event === 'alarm.withdrawn' ? ` · ${ot('webhook.withdrawn')}` : ''),
                  h('td', { class: 'num' }, d.of ? `${d.attempt} / ${d.of}` : String(d.attempt)),
                  h('td', {}, outcome(d)),
                  h('td', {}, next(d)),
                ))),
            ),
        button(ot('webhook.refresh'), load),
      );
    } catch (err) {
      box.replaceChildren(h('p', { class: 'error' }, reasonOf(err)));
    }
  };
  panel.addEventListener('toggle', () => {
    if (panel.open) void load();
  });
  return panel;
}
