// `/grid/s/{code}/patrol`: the monthly patrol. The checklist (../checklist) is prefilled with the owner's latest
// self-check; each item shows whether the worker confirms or disputes it, and a hazardous answer opens its
// finding (severity, deadline from the rules, note, photos). Saved as a draft while typed; submitting writes
// one `patrol` event to the local database, which syncs when it can.
import { buildChecklistForm, type Template as ChecklistTemplate } from '../checklist';
import { deviceId } from '../device';
import { h } from '../dom';
import { discardDraftPhotos } from '../draft-photos';
import { getLang, t } from '../i18n';
import { isHazard } from '../items';
import { autosave, loadDraft } from '../drafts';
import { refusedIds, whileShown } from '../db';
import { appendEvents, isQuotaError, newUlid, type EventInput } from '../events';
import { navigate } from '../router';
import { currentSession } from '../session';
import { getSyncStatus, onSyncStatus } from '../sync-status';
import { shanghaiDay, shanghaiIso } from '../ulid';
import type { View } from '../views';
import { loadDistrict, loadShopFile, loadTemplates } from './data';
import type { HazardDoc, PatrolDoc, SelfCheckDoc, Severity, TemplateDoc } from './docs';
import { pendingVisits, statusToday, stillOpen, withoutRefused, type PendingVisit, type ShopFile } from './due';
import { flash } from '../flash';
import { gt, type GridKey } from './i18n';
import {
  buildPatrols,
  defaultDeadline,
  itemCheck,
  latestFor,
  patrolledOn,
  patrolEntered,
  ownerAnswers,
  prefillVisit,
  restoreDraft,
  rulesOn,
  selfChecksToVerify,
  visitFindings,
  visitProblems,
  type OtherFinding,
  type PatrolDraft,
  type Visit,
} from './patrol-logic';
import { gpsCheckbox, gpsConsent, photoPicker, type PhotoPicker } from './photos';
import { verifyBox } from './patrol-verify';
import { patrolCleanPoints, type District } from './rules';
import { itemName, notice, savedRecords, shortDay, thumbImage, thumbs } from './ui';
import { shopHref } from './efile';

const SEVERITIES: Severity[] = ['general', 'major', 'serious'];

function draftKey(code: string): string {
  return `grid.patrol.${code}`;
}

function severitySelect(name: string, value: Severity, onChange: (s: Severity) => void): HTMLSelectElement {
  const select = h(
    'select',
    { name },
    ...SEVERITIES.map((s) => h('option', { value: s, selected: s === value }, gt(`severity.${s}`))),
  );
  select.addEventListener('change', () => onChange(select.value as Severity));
  return select;
}

/** 未销号隐患：严重隐患 · 整改期限 2025-11-27 · 已逾期, under the item it is of. */
function openHazardLine(hazard: HazardDoc, today: string): HTMLElement {
  const status = statusToday(hazard, today);
  const text = gt('patrol.openHazard', { severity: gt(`severity.${hazard.severity}`), day: hazard.deadline, status: gt(`hazard.${status}`) });
  return h('p', { class: `g-open-hazard ${status === 'overdue' ? 'bad' : 'warn'}`, 'data-open-hazard': status }, text);
}

function field(label: string, control: HTMLElement): HTMLElement {
  return h('label', { class: 'g-field' }, h('span', {}, label), control);
}

interface Built {
  node: HTMLElement;
  /** Say again what the form says from the shop's file and the district's rules, as they are now (see `patrolView`). */
  follow(file: ShopFile, district: District): void;
}

/** Sentences said one after another: a space between English ones, none after a Chinese full stop (。). */
function sentences(...said: string[]): string {
  return said.filter(Boolean).join(getLang() === 'en' ? ' ' : '');
}

function buildForm(code: string, templates: TemplateDoc[], openedDistrict: District, opened: ShopFile): Built {
  // The shop's file and the district's rules, as the form last read them: they follow the database while the form is
  // open (`follow`).
  let file = opened;
  let district = openedDistrict;
  const today = shanghaiDay();
  // The deadlines proposed: the rules in force on the patrol's day, not a version published for a later day.
  let rules = rulesOn(district.rules, today);
  const toVerify = selfChecksToVerify(file.selfChecks, file.patrols);
  // The hazards still open as the list counts them (`stillOpen`). The phone's own patrols not synced yet count too:
  // a second visit today must not find their hazards again. A fix this phone passed does not: the server closes it
  // at the verdict, so the item found wrong again today is a new hazard, and it is no 未销号隐患 under its item.
  let unresolved = stillOpen(file);
  const visit: Visit = {
    modules: templates.map((template) => ({ template, rules, latest: latestFor(template, file.selfChecks), unresolved, today })),
    selfChecks: file.selfChecks,
  };
  // The owner's latest answers, which the items are compared with (confirmed / disputed): they follow a newer
  // self-check synced in while the form is open (`followLatest`), as the server compares the patrol with it.
  let owner = ownerAnswers(visit);
  const items = templates.flatMap((t) => t.items);
  const latestOf = (): SelfCheckDoc | null => file.selfChecks.find((c) => visit.modules.some((m) => m.latest?._id === c._id)) ?? null;
  const latest = latestOf(); // the one the form is prefilled with

  const fresh = prefillVisit(visit, toVerify);
  const saved = restoreDraft(loadDraft<unknown>(draftKey(code)), fresh);
  // The form as it opens with nothing entered (the draft below may be `fresh` itself, changed as the worker goes).
  const prefilled = prefillVisit(visit, toVerify);
  const draft: PatrolDraft = saved ?? fresh;
  // Photos taken before a reload live in the draft: the checklist's pickers start from them.
  const restoredPhotos: Record<string, string[]> = Object.fromEntries(
    Object.entries(draft.items).map(([id, d]) => [id, [...d.ownPhotos]]),
  );

  const form = h('form', { class: 'g-patrol', novalidate: true, 'data-shop': code });
  const checklist = buildChecklistForm(templates as unknown as ChecklistTemplate[], {
    prefill: owner,
    verify: true,
    prefillPhotos: restoredPhotos,
    withPhotos: true,
    shop: code,
    get gps() {
      return gpsConsent();
    },
    onChange: () => update(),
    saveDraft: () => save.flush(),
    thumb: (id) => thumbImage(id),
  });

  // Put the draft's values over the owner's answers (a reload keeps what the worker entered).
  for (const item of items) {
    const value = draft.items[item.id]?.value ?? null;
    if (item.answer === 'yes_no') {
      for (const radio of checklist.node.querySelectorAll<HTMLInputElement>(`input[name="${item.id}"]`)) {
        radio.checked = value !== null && radio.value === String(value);
      }
    } else {
      const input = checklist.node.querySelector<HTMLInputElement>(`input[name="${item.id}"]`);
      if (input) input.value = typeof value === 'number' ? String(value) : '';
    }
  }
  // A draft's 不适用 (or a change from the owner's) asks for no photo; the labels follow the values set here.
  checklist.refresh();

  // Per item: the confirmed / disputed mark and the finding panel.
  const marks = new Map<string, HTMLElement>();
  const panels = new Map<string, HTMLElement>();
  for (const item of items) {
    const fieldset = checklist.node.querySelector<HTMLElement>(`fieldset[data-item="${item.id}"]`);
    if (!fieldset) continue;
    const mark = h('span', { class: 'g-check', 'data-check': '' });
    fieldset.querySelector('legend')?.after(mark);
    marks.set(item.id, mark);
    const panel = h('div', { class: 'g-finding', 'data-finding-for': item.id, hidden: true });
    fieldset.append(panel);
    panels.set(item.id, panel);
  }
  /** Above the other problems, the hazards not closed yet that no item of the form is about (a problem found under
   *  其他问题 before, an item of a checklist the shop no longer has): each with what it is, as the e-file says it. */
  const openOthers = h('div', { class: 'g-open-others', 'data-open-others': '' });
  /** Under each item, its hazards not closed yet: the owner's answer prefilled may say the item is in order, the worker
   *  looks at it on site (the hazard is not found again; its fix is verified from the e-file). */
  function drawOpenHazards(): void {
    for (const [itemId, mark] of marks) {
      mark.parentElement?.querySelectorAll(':scope > [data-open-hazard]').forEach((line) => line.remove());
      const open = unresolved.filter((hz) => hz.item === itemId);
      if (open.length) mark.after(...open.map((hz) => openHazardLine(hz, today)));
    }
    openOthers.replaceChildren(
      ...unresolved
        .filter((hz) => !marks.has(hz.item))
        .map((hz) => {
          const line = openHazardLine(hz, today);
          const what = hz.note ? `${itemName(templates, hz.item)}${getLang() === 'en' ? ': ' : '：'}${hz.note}` : itemName(templates, hz.item);
          line.prepend(h('strong', {}, what), h('br', {}));
          return line;
        }),
    );
  }
  drawOpenHazards();
  /** Under the owner's answer to each item, the owner's own photos of it, to compare with what the worker sees. */
  function drawOwnerPhotos(): void {
    for (const [itemId, mark] of marks) {
      const fieldset = mark.parentElement;
      fieldset?.querySelector(':scope > [data-owner-photos]')?.remove();
      const ownerPhotos = thumbs(owner[itemId]?.photos ?? []);
      if (!ownerPhotos) continue;
      ownerPhotos.dataset.ownerPhotos = '';
      (fieldset?.querySelector(':scope > .prior') ?? mark).after(ownerPhotos);
    }
  }
  drawOwnerPhotos();

  // Verified self-checks: every one since the last patrol, ticked unless the worker unticks it (./patrol-verify).
  const verify = verifyBox(file, templates, draft, () => save.touch());

  // Other problems (no checklist item covers them).
  const othersList = h('div', { class: 'g-others' });
  const otherPickers = new Map<string, PhotoPicker>();
  const addOther = (other: OtherFinding): void => {
    const picker = photoPicker(
      code,
      other.id,
      gt('patrol.otherPhoto'),
      other.photos,
      () => {
        other.photos = picker.ids();
        update();
      },
      () => save.flush(),
    );
    otherPickers.set(other.id, picker);
    const note = h('textarea', { name: `note-${other.id}`, rows: '2', placeholder: gt('patrol.notePlaceholder') });
    note.value = other.note;
    note.addEventListener('input', () => {
      other.note = note.value;
      update();
    });
    const deadline = h('input', { type: 'date', name: `deadline-${other.id}`, min: today, value: other.deadline });
    deadline.addEventListener('change', () => {
      other.deadline = deadline.value;
      update();
    });
    const remove = h('button', { type: 'button', class: 'button g-small', 'data-action': 'remove-other' }, gt('patrol.removeOther'));
    const box = h(
      'fieldset',
      { class: 'item g-other', 'data-finding-for': other.id },
      h('legend', {}, gt('item.other')),
      field(gt('patrol.note'), note),
      field(
        gt('patrol.severity'),
        severitySelect(`severity-${other.id}`, other.severity, (s) => {
          // The deadline follows the severity unless the worker set one (as an item's finding keeps its own).
          const chosen = other.deadline !== defaultDeadline(rules, other.severity, today);
          other.severity = s;
          if (!chosen) other.deadline = defaultDeadline(rules, s, today);
          deadline.value = other.deadline;
          update();
        }),
      ),
      field(gt('patrol.deadline'), deadline),
      picker.node,
      remove,
    );
    remove.addEventListener('click', () => {
      draft.others = draft.others.filter((o) => o !== other);
      otherPickers.delete(other.id);
      box.remove();
      update();
      // Its photos go with it, once the draft no longer names them.
      save.flush();
      void discardDraftPhotos(other.photos).catch(() => undefined);
    });
    othersList.append(box);
  };
  draft.others.forEach(addOther);
  const addButton = h('button', { type: 'button', class: 'button', 'data-action': 'add-other' }, gt('patrol.addOther'));
  addButton.addEventListener('click', () => {
    const used = new Set(draft.others.map((o) => o.id));
    let n = 1;
    while (used.has(`other-${n}`)) n++;
    const other: OtherFinding = { id: `other-${n}`, severity: 'general', deadline: defaultDeadline(rules, 'general', today), note: '', photos: [] };
    draft.others.push(other);
    addOther(other);
    update();
  });

  const summary = h('p', { class: 'g-notice', 'data-summary': '', role: 'status' });
  const problemBox = h('div', { class: 'g-problems', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button primary' }, gt('patrol.submit'));

  // Saved as soon as the form opens; what signing out would lose is what the worker changed (../sign-out asks first).
  const save = autosave(draftKey(code), () => draft, { about: { kind: 'patrol', entered: (d) => patrolEntered(d, prefilled) } });

  function readValues(): void {
    const answers = checklist.read();
    const own = checklist.photos();
    for (const item of items) {
      const d = (draft.items[item.id] ??= { value: null, ownPhotos: [], note: '' });
      d.value = answers[item.id]?.value ?? null;
      d.ownPhotos = [...(own[item.id] ?? [])];
    }
  }

  function drawPanel(itemId: string, finding: { severity: Severity } | undefined, known: boolean): void {
    const panel = panels.get(itemId);
    if (!panel) return;
    const d = draft.items[itemId];
    if (!d) return;
    if (!finding) {
      panel.hidden = !known;
      panel.replaceChildren(...(known ? [h('p', { class: 'muted' }, gt('patrol.findingKnown'))] : []));
      return;
    }
    panel.hidden = false;
    if (panel.dataset.open === '1') {
      // Already drawn: keep the inputs (and the focus), only follow a severity change's default deadline.
      const deadline = panel.querySelector<HTMLInputElement>('input[type=date]');
      if (deadline && !d.deadline) deadline.value = defaultDeadline(rules, finding.severity, today);
      const select = panel.querySelector<HTMLSelectElement>('select');
      if (select && select.value !== finding.severity) select.value = finding.severity;
      return;
    }
    panel.dataset.open = '1';
    const deadline = h('input', {
      type: 'date',
      name: `deadline-${itemId}`,
      min: today,
      value: d.deadline ?? defaultDeadline(rules, finding.severity, today),
    });
    deadline.addEventListener('change', () => {
      d.deadline = deadline.value || undefined;
      update();
    });
    const note = h('textarea', { name: `note-${itemId}`, rows: '2', placeholder: gt('patrol.notePlaceholder') });
    note.value = d.note;
    note.addEventListener('input', () => {
      d.note = note.value;
      save.touch();
    });
    panel.replaceChildren(
      h('strong', { class: 'g-finding-title' }, gt('patrol.finding')),
      field(
        gt('patrol.severity'),
        severitySelect(`severity-${itemId}`, finding.severity, (s) => {
          d.severity = s;
          if (!d.deadline) deadline.value = defaultDeadline(rules, s, today);
          update();
        }),
      ),
      field(gt('patrol.deadline'), deadline),
      field(gt('patrol.note'), note),
    );
  }

  // A patrol of the shop today the phone holds (the server's, any worker's, or this phone's own not uploaded yet).
  let already = patrolledOn(file.patrols, today);
  let cleanPoints = patrolCleanPoints(rules);

  /** What a patrol without a new hazard earns: the server gives a shop the points once a day, to its first patrol of
   *  the day (server/validators/projections.py `_visit`), so a second visit today earns nothing. */
  function patrolClean(): string {
    if (already) return gt('patrol.summaryCleanAgain');
    return cleanPoints > 0 ? gt('patrol.summaryClean', { n: cleanPoints }) : gt('patrol.summaryCleanNoPoints');
  }

  /** The alarm the server will raise for `patrols` (the form's, as submitting writes them), by its rule as the list
   *  applies it once the patrol is saved (`pendingVisits`): a serious item, or the deductions (with the +3 of items the
   *  latest self-check declared in order) reaching the threshold of today's rules. Its `alarm` is null when it raises
   *  none (and the visit null without a new hazard). */
  function alarmOf(patrols: readonly PatrolDoc[]): PendingVisit | null {
    const withThese = { ...file, patrols: [...patrols, ...file.patrols] };
    // The server reads a patrol's items in the template version it names: the form's, whatever was published since.
    const named = { ...district, templates: [...templates, ...district.templates] };
    return pendingVisits(withThese, named).find((v) => v.patrols.includes(patrols[0]!._id)) ?? null;
  }

  /** What submitting now records, and the alarm it raises: at once with signal, with the patrol's upload without (as
   *  the e-file then says, ./efile `alarm.pendingUnsent`). Said again as the signal comes and goes. */
  function saySummary(): void {
    // The patrols as submitting now would write them (the ids and author are placeholders).
    let n = 0;
    const author = { user: '', device: '', performedAt: shanghaiIso(Date.now()) };
    const patrols = buildPatrols(visit, draft, code, () => `FORM${n++}`, author);
    const all = patrols.flatMap((p) => p.findings ?? []);
    if (!all.length) {
      // No new hazard earns the patrol's points, as the server gives them: to the shop's first patrol of the day only
      // (`patrolClean`). The ones still open are said beside it, not forgotten.
      const open = unresolved.filter((hz) => !hz.provisional).length;
      summary.textContent = sentences(patrolClean(), open ? gt('patrol.summaryOpen', { n: open }) : '');
      summary.className = `g-notice ${open ? 'warn' : 'ok'}`;
    } else {
      const alarm = alarmOf(patrols);
      const offline = getSyncStatus().state === 'offline';
      const why =
        alarm?.alarm === 'serious'
          ? gt(offline ? 'patrol.summarySeriousOffline' : 'patrol.summarySerious')
          : alarm?.alarm === 'threshold'
            ? gt(offline ? 'patrol.summaryThresholdOffline' : 'patrol.summaryThreshold', { cost: alarm.cost, n: alarm.threshold })
            : '';
      summary.textContent = sentences(gt('patrol.summary', { n: all.length }), why);
      summary.className = `g-notice ${why ? 'bad' : 'warn'}`;
    }
    summary.dataset.findings = String(all.length);
  }

  function update(): void {
    readValues();
    const findings = new Map(visitFindings(visit, draft).map((f) => [f.item, f]));
    const knownItems = new Set(unresolved.map((hz) => hz.item));
    for (const item of items) {
      const d = draft.items[item.id];
      const check = itemCheck(owner[item.id], d);
      const mark = marks.get(item.id);
      if (mark) {
        const key: GridKey | null =
          check === 'confirmed' ? 'patrol.confirmed' : check === 'disputed' ? 'patrol.disputed' : check === 'new' ? 'patrol.new' : null;
        mark.textContent = key ? gt(key) : '';
        mark.dataset.check = check;
        // The checklist marks hazard answers as they change; a restored draft's values need it now.
        mark.closest('fieldset')?.classList.toggle('hazard', isHazard(item, d?.value ?? null));
      }
      const finding = findings.get(item.id);
      if (!finding) {
        const panel = panels.get(item.id);
        if (panel) delete panel.dataset.open;
      }
      drawPanel(item.id, finding, !finding && knownItems.has(item.id) && isHazard(item, d?.value ?? null));
    }
    saySummary();
    save.touch();
  }

  function showProblems(): boolean {
    const found = visitProblems(visit, draft);
    if (!found.length) {
      problemBox.hidden = true;
      return false;
    }
    const label = (id: string): string =>
      id.startsWith('other-') ? gt('item.other') : itemName(templates, id);
    problemBox.replaceChildren(
      h('strong', {}, gt('patrol.fix')),
      h(
        'ul',
        {},
        ...found.map((p) => h('li', { 'data-problem': p.reason, 'data-item': p.item }, gt(`problem.${p.reason}`, { item: label(p.item) }))),
      ),
    );
    problemBox.hidden = false;
    const first = found[0];
    const target = first?.item
      ? form.querySelector<HTMLElement>(`[data-item="${first.item}"], [data-finding-for="${first.item}"]`)
      : null;
    (target ?? problemBox).scrollIntoView({ block: 'center' });
    return true;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      submit.disabled = true;
      submit.textContent = gt('patrol.saving');
      try {
        await checklist.ready();
        await Promise.all([...otherPickers.values()].map((p) => p.ready()));
        update();
        if (showProblems()) return;
        const session = currentSession();
        if (!session) throw new Error(gt('signin.needed'));
        const now = Date.now();
        const docs = buildPatrols({ ...visit, modules: visit.modules.map((m) => ({ ...m, today: shanghaiDay(now) })) }, draft, code, () => newUlid(now), {
          user: session.user.id,
          device: deviceId(),
          performedAt: shanghaiIso(now),
        });
        // The notice says the office was alarmed once the patrol is up, where the summary promised it.
        const alarms = !!alarmOf(docs)?.alarm;
        const ids = await appendEvents(docs as unknown as EventInput[]);
        save.clear();
        flash(savedRecords('patrol', ids, alarms));
        navigate('/grid');
      } catch (err) {
        problemBox.replaceChildren(
          h('strong', {}, isQuotaError(err) ? gt('problem.storageFull') : gt('problem.failed', { reason: String((err as Error)?.message ?? err) })),
        );
        problemBox.hidden = false;
      } finally {
        submit.disabled = false;
        submit.textContent = gt('patrol.submit');
      }
    })();
  });

  const discard = h('button', { type: 'button', class: 'button g-small', 'data-action': 'discard-draft' }, gt('patrol.discardDraft'));
  discard.addEventListener('click', () => {
    save.clear();
    // The draft's photos go with it (those no other draft names): they never upload.
    void discardDraftPhotos(draft).catch(() => undefined);
    navigate(shopHref(code, '/patrol'), true);
  });

  // Opening the form again after submitting, or a colleague's patrol synced: a second visit, said before it is made.
  const alreadyNotice = (): HTMLElement =>
    already
      ? notice(gt('patrol.alreadyToday', { time: already.performed_at.slice(11, 16) }), 'warn', { 'data-already': '' })
      : h('p', { 'data-already': '', hidden: true });
  let alreadyBox = alreadyNotice();
  /** What the items are prefilled with and compared with: the owner's latest self-check as the form opened, or the
   *  one synced in since (the answers as the form has them, the comparisons with it). */
  const introNotice = (): HTMLElement => {
    const now = latestOf();
    if (now && now._id !== latest?._id) return notice(gt('patrol.introSynced', { day: shortDay(now.performed_at) }), 'warn');
    return latest ? notice(gt('patrol.intro', { day: shortDay(latest.performed_at) })) : notice(gt('patrol.noSelfCheck'), 'warn');
  };
  let introBox = introNotice();
  form.append(
    alreadyBox,
    introBox,
    saved ? h('div', { class: 'g-notice ok', role: 'status' }, gt('patrol.draftRestored'), ' ', discard) : '',
    verify.node,
    gpsCheckbox(t('check.gps')),
    checklist.node,
    openOthers,
    othersList,
    addButton,
    summary,
    problemBox,
    h('div', { class: 'actions g-submit' }, submit),
  );
  update();
  // The signal comes and goes while the form is open: the alarm's promise follows it. Let go once the form is left.
  let wasOffline = getSyncStatus().state === 'offline';
  const stopStatus = onSyncStatus((status) => {
    if ((status.state === 'offline') === wasOffline) return;
    wasOffline = status.state === 'offline';
    if (form.isConnected) saySummary();
    else stopStatus();
  });

  /** The district's rules or templates changed while the form is open (the office published a version, in force
   *  today or from a later day). The checklist stays as it was built: no answer moves under the worker's hands, and
   *  the patrol names the template version it was filled in, which the server reads it in. What the server takes
   *  from the rules in force on the patrol's day follows them: the clean patrol's points, the alarm's costs and
   *  threshold, and the deadlines proposed where the worker set none (a deadline the worker chose stays). */
  function followRules(next: District): void {
    district = next;
    const now = rulesOn(district.rules, today);
    if (now === rules) return;
    for (const other of draft.others) {
      if (other.deadline !== defaultDeadline(rules, other.severity, today)) continue; // the worker's own
      other.deadline = defaultDeadline(now, other.severity, today);
      const input = form.querySelector<HTMLInputElement>(`input[name="deadline-${other.id}"]`);
      if (input) input.value = other.deadline;
    }
    rules = now;
    for (const m of visit.modules) m.rules = rules;
    cleanPoints = patrolCleanPoints(rules);
  }

  /** A newer self-check of the owner synced in while the form is open (this morning's, sent as the worker arrived):
   *  the server compares the patrol with the shop's latest self-check (its items declared in order and found wrong
   *  cost 3 more points, `declaredBefore`), so the form does too: the owner's answer and photos beside each item, what
   *  each item's mark says, the owner's photos a confirmed item takes. The worker's answers do not move (the items
   *  prefilled from the earlier one included: what now differs is marked 与自查不符); the intro says so. */
  function followLatest(): void {
    let changed = false;
    for (const m of visit.modules) {
      const now = latestFor(m.template, file.selfChecks);
      if (now?._id !== m.latest?._id) changed = true;
      m.latest = now;
    }
    if (!changed) return;
    owner = ownerAnswers(visit);
    checklist.showPrior(owner);
    drawOwnerPhotos();
    const box = introNotice();
    introBox.replaceWith(box);
    introBox = box;
  }

  /** The shop's documents changed while the form is open: a patrol synced (a colleague's, or the worker's own from
   *  another phone), a hazard the server found or closed, a patrol of this phone refused, an owner's self-check
   *  synced. What the form says from them follows (the second visit's notice and its points, the hazards still open,
   *  the self-checks to verify, the alarm to come); what the worker entered stays, in the draft and in the inputs.
   *  The rules too (`followRules`). */
  function follow(next: ShopFile, nextDistrict: District): void {
    file = next;
    unresolved = stillOpen(file);
    for (const m of visit.modules) m.unresolved = unresolved;
    drawOpenHazards();
    visit.selfChecks = file.selfChecks;
    verify.follow(file);
    followLatest();
    followRules(nextDistrict);
    already = patrolledOn(file.patrols, today);
    const box = alreadyNotice();
    alreadyBox.replaceWith(box);
    alreadyBox = box;
    update();
  }
  return { node: form, follow };
}

export function patrolView(code: string): View {
  const node = h('section', { class: 'page grid grid-patrol', 'data-shop': code });
  const back = h('a', { class: 'g-back', href: shopHref(code) }, '‹ ', code);
  const title = h('h1', {}, gt('patrol.title'));
  node.append(back, title);
  // The shop's file as it counts: a patrol the server refused is no visit, and finds no hazard (as on the list).
  const read = async (): Promise<ShopFile | null> => {
    const file = await loadShopFile(code);
    return file && withoutRefused(file, refusedIds());
  };
  // The form follows the shop's file while it is open: a patrol synced (the server gives the clean patrol's points to
  // the day's first only), or refused, an owner's self-check synced; and the district's rules (`loadDistrict` reads
  // them again only when one changed). Listened to before the first read (see the list); one read at a time, so an
  // older file never lands after a newer one.
  let form: Built | null = null;
  let missed = false;
  let following: Promise<void> = Promise.resolve();
  const follow = (): Promise<void> => {
    if (!form) {
      missed = true; // a change while the form is built: read again once it is
      return following;
    }
    const shown = form;
    following = following
      .then(() => Promise.all([read(), loadDistrict()]))
      .then(([file, district]) => {
        if (file) shown.follow(file, district);
      })
      .catch(() => undefined);
    return following;
  };
  whileShown(node, follow);
  void (async () => {
    const file = await read();
    if (!file) {
      node.append(notice(gt('shop.missing', { code }), 'warn'));
      return;
    }
    back.replaceChildren('‹ ', file.shop.name);
    title.textContent = `${gt('patrol.title')} · ${file.shop.name}`;
    const [templates, district] = await Promise.all([loadTemplates(file.shop.category), loadDistrict()]);
    if (!templates.length) {
      node.append(notice(gt('patrol.noTemplate'), 'warn'));
      return;
    }
    form = buildForm(code, templates, district, file);
    node.append(form.node);
    if (missed) void follow();
  })();
  return { title: `${gt('patrol.title')} · ${code}`, node };
}
