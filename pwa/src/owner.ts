// The owner's screens: home (points, rank, open hazards with deadlines, this week's self-check, alarms),
// the weekly self-check at /s/{code}/check and the rectification of a hazard. Everything reads the local
// database, so it works offline; everything written goes through appendEvent and syncs from there.
import {
  applicableTemplates,
  buildChecklistForm,
  templateId,
  type Answer,
  type Answers,
  type Template,
  type TemplateItem,
} from './checklist';
import { localDb, uploadState, whileShown } from './db';
import { h } from './dom';
import { autosave, loadDraft, type Autosave } from './drafts';
import { appendEvent, appendEvents, isQuotaError, savePhoto, photoUrl } from './events';
import { joinList, t, type MessageKey } from './i18n';
import { isHazard } from './items';
import { hazardItemLabel, hazardShown, pendingRectifications, type HazardShown, type RectificationLike } from './owner-hazards';
import { removableThumb } from './photo-thumb';
import { checkPath, navigate, rectifyPath, shopPath } from './router';
import { currentSession } from './session';
import { signOutButton } from './sign-out';
import { isoWeek, newUlid, shanghaiDay, ulidTime } from './ulid';
import { showLastSelfCheck, type View } from './views';

interface Score {
  points: number;
  rank?: number | null;
  of?: number | null;
  list?: 'red' | 'black' | null;
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
  const local = await range<RectificationLike>(`${code}:rectification:`);
  const waiting = ids.flatMap((id, i) => pendingRectifications(id, hazards[i] ?? null, local).map((r) => r._id));
  // The push ledger is only asked when a rectification is waiting somewhere (the usual case is none).
  const { unsent, refused } = await uploadState(waiting);
  return new Map(ids.map((id, i) => [id, hazardShown(id, hazards[i] ?? null, local, unsent, refused)]));
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

/** The owner's home below the public card. */
export function mountOwnerHome(code: string, into: HTMLElement, onScore?: () => void): void {
  const body = h('div', { class: 'owner-home', 'data-owner-home': code });
  // The `{code}:score` revision the card above was drawn with: a new one (the server scored something) redraws it.
  let scoreRev: string | null | undefined;
  const render = async (): Promise<void> => {
    const since = `${code}:self_check:${newUlid(Date.now() - RECENT_MS).slice(0, 10)}`;
    const [score, rewards, hazards, alarms, checks, items, recentRows] = await Promise.all([
      getDoc<Score>(`${code}:score`),
      getDoc<Rewards>(`${code}:rewards`),
      range<Hazard>(`${code}:hazard:`),
      range<Alarm>(`${code}:alarm:`),
      localDb().allDocs({ startkey: `${code}:self_check:\ufff0`, endkey: `${code}:self_check:`, descending: true, limit: 1 }),
      allItems(),
      localDb().allDocs({ startkey: since, endkey: `${code}:self_check:\ufff0`, include_docs: true }),
    ]);
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
    const open = hazards
      .filter((hz) => hz.status === 'open' || hz.status === 'overdue' || hz.status === 'rectified')
      .sort((a, b) => a.deadline.localeCompare(b.deadline));
    const shown = await shownStates(code, open, open.map((hz) => hz._id));
    const openAlarms = alarms.filter((a) => a.status !== 'resolved');
    const today = shanghaiDay();
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
      ),
      score ? null : h('p', { class: 'muted' }, t('owner.notLoaded')),
      rewards
        ? h(
            'section',
            { class: 'rewards', 'data-rewards': String(rewards.balance) },
            h('p', {}, t('owner.rewards', { n: rewards.balance })),
            h('p', { class: 'muted' }, t('owner.rewardsHint')),
          )
        : null,
      openAlarms.length
        ? h(
            'section',
            { class: 'alarms' },
            h('h2', {}, t('owner.alarms')),
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
                const state = shown.get(hz._id) ?? 'fix';
                const overdue = hz.status === 'overdue' || hz.deadline < today;
                return h(
                  'li',
                  { class: `hazard ${hz.severity}`, 'data-hazard': hz._id, 'data-status': hz.status, 'data-shown': state },
                  h('strong', {}, label(items, hz.item)),
                  ' ',
                  h('span', { class: `sev ${hz.severity}` }, severity(hz.severity)),
                  h('br'),
                  h('span', { class: overdue ? 'warn' : 'muted' }, t('owner.deadline', { day: hz.deadline }), overdue ? ` · ${t('owner.overdue')}` : ''),
                  hazardNote(hz),
                  state === 'fix'
                    ? h('a', { class: 'button', href: rectifyPath(code, hz._id), 'data-action': 'rectify' }, t('owner.rectify'))
                    : h('p', { class: 'muted', 'data-rectify-state': state }, stateText(state)),
                );
              }),
            ),
      ),
      ),
    );
  };
  const out = signOutButton(() => navigate(shopPath(code), true));
  into.append(body, h('nav', { class: 'actions small' }, out));
  whileShown(body, () => void render(), 150);
  void render();
}

async function loadTemplates(code: string): Promise<Template[]> {
  const shop = await getDoc<ShopDoc>(`${code}:shop:${code}`);
  return applicableTemplates(shop?.category ?? null);
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
  page.append(backLink(code), h('h1', {}, t('check.title')), h('p', { class: 'muted' }, t('check.intro')));
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
    save = autosave(draftKey, () => ({ answers: form.read(), photos: form.photos() }));
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
          await appendEvents(
            templates.map((template) => ({
              type: 'self_check',
              shop: code,
              template: templateId(template),
              template_version: template.version,
              answers: Object.fromEntries(template.items.filter((i) => i.id in answers).map((i) => [i.id, answers[i.id]])),
            })),
          );
          save?.clear();
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
    const [hazard, items] = await Promise.all([getDoc<Hazard>(hazardId), allItems()]);
    const state = (await shownStates(code, [hazard], [hazardId])).get(hazardId) ?? 'fix';
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
            t('owner.deadline', { day: hazard.deadline }),
          )
        : null,
      hazard ? hazardNote(hazard) : null,
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
    const save = autosave(draftKey, () => ({ note: note.value, photos }));
    note.addEventListener('input', () => save.touch());
    const thumbs = h('div', { class: 'thumbs' });
    const remove = (id: string): void => {
      const at = photos.indexOf(id);
      if (at < 0) return;
      photos.splice(at, 1);
    };
    const show = (id: string): void => {
      const img = h('img', { alt: t('check.photo'), 'data-photo': id });
      thumbs.append(removableThumb(img, id, { label: t('check.removePhoto'), ask: t('check.removePhotoAsk') }, remove, () => save.flush()));
      void photoUrl(id).then((u) => u && (img.src = u));
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
      h('div', { class: 'photos' }, h('label', { class: 'button photo', for: 'rect-photo' }, t('check.takePhoto')), input, thumbs),
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
          await appendEvent({ type: 'rectification', shop: code, hazard: hazardId, note: note.value.trim(), photos: [...photos] });
          save.clear();
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
