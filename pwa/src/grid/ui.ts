// Small DOM pieces the grid screens share: badges, photo thumbnails, labels of items and days.
import { h, type Child } from '../dom';
import { getLang } from '../i18n';
import { splitId, type Severity, type TemplateDoc } from './docs';
import { loadShopFile } from './data';
import { dayOf, raisedNone } from './due';
import { gt, type GridKey } from './i18n';
import { savedNotice, type Saved, type UploadStage } from '../flash';
import { thumbImage as sharedThumb } from '../thumb-image';
import { hazardNamed } from '../owner-hazards';

export type Tone = 'bad' | 'warn' | 'ok' | 'muted';

export function badge(text: string, tone: Tone, attrs: Record<string, string> = {}): HTMLElement {
  return h('span', { class: `g-badge ${tone}`, ...attrs }, text);
}

export function severityBadge(severity: Severity): HTMLElement {
  const tone: Tone = severity === 'serious' ? 'bad' : severity === 'major' ? 'warn' : 'muted';
  return badge(gt(`severity.${severity}`), tone, { 'data-severity': severity });
}

/** `11月28日` / `Nov 28` for an event time or a day; the year only when it is not this year's. */
export function shortDay(atOrDay: string): string {
  const day = atOrDay.length === 10 ? atOrDay : dayOf(atOrDay);
  const [y, m, d] = day.split('-').map(Number);
  const thisYear = new Date().getFullYear() === y;
  if (getLang() === 'en') {
    const month = new Date(Date.UTC(2000, (m ?? 1) - 1, 1)).toLocaleString('en', { month: 'short', timeZone: 'UTC' });
    return thisYear ? `${month} ${d}` : `${month} ${d}, ${y}`;
  }
  return thisYear ? `${m}月${d}日` : `${y}年${m}月${d}日`;
}

/** The label of a template item in the current language, from whichever template has it; `other` and
 * unknown items get a fallback. */
export function itemName(templates: readonly TemplateDoc[], item: string): string {
  if (item === 'other') return gt('item.other');
  for (const template of templates) {
    const found = template.items.find((i) => i.id === item);
    if (found) return getLang() === 'en' ? found.label_en : found.label_zh;
  }
  return item;
}

/** A hazard on `item`, named by the question and the answer that made it one (灭火器是否在有效期内：否); `other` and
 * unknown items as `itemName` names them. */
export function hazardName(templates: readonly TemplateDoc[], item: string): string {
  for (const template of templates) {
    const found = template.items.find((i) => i.id === item);
    if (found) return hazardNamed(found);
  }
  return itemName(templates, item);
}

/** The template version a check was filled with (its frozen copy), else the current one. */
export function templateOf(templates: readonly TemplateDoc[], id: string, version: number): TemplateDoc | null {
  return (
    templates.find((t) => t._id === `${id}:v${version}`) ??
    templates.find((t) => t._id === id && t.version === version) ??
    templates.find((t) => t._id === id) ??
    null
  );
}

/** Thumbnails of photo documents: from this device when they are here, else from the server, each once it comes near
 *  the screen. An e-file holds a year of records with their photos, most of them below the fold or under 更早的记录:
 *  fetched all at once they took the signal from the sync (and the phone's memory) for minutes. */
export function thumbs(ids: readonly string[]): HTMLElement | null {
  if (!ids.length) return null;
  return h('div', { class: 'g-thumbs' }, ...ids.map((id) => thumbImage(id, true)));
}

/** One photo's thumbnail in a frame of 64 px (grid.css `.g-thumbs`), as ../thumb-image draws it: at once, or
 *  (`lazy`) once it comes near the screen; offline, a photo the phone does not keep says 联网后显示, and one that did
 *  not load online says 加载失败，点按重试 (照片未上传 when the server does not have it yet). */
export function thumbImage(id: string, lazy = false): HTMLImageElement {
  return sharedThumb(id, {
    lazy,
    img: { width: '64', height: '64' },
    offline: { class: 'g-photo-offline', text: gt('photo.offline') },
    failed: gt('photo.failed'),
    missing: gt('photo.missing'),
  });
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'g-section' }, h('h2', {}, title), ...children);
}

export function notice(text: string, tone: Tone = 'muted', attrs: Record<string, string> = {}): HTMLElement {
  return h('p', { class: `g-notice ${tone}`, role: tone === 'bad' ? 'alert' : 'status', ...attrs }, text);
}

/** What the grid's forms say of what they saved as the upload goes (../flash). A patrol that raises an alarm
 *  (`alarms`, as its form's summary promised) says, once up, that the alarm is on its way, in the shop's e-file's
 *  words (./efile `alarm.pendingSent`); and that the office was alarmed once the server's alarm, named after one of
 *  its patrols (../due `pendingVisits`), is on the phone: where the e-file's card says 待处理 too. The server's hazards
 *  of the patrols may come down before it (a CouchDB cluster keeps no order within one write): a hazard that names
 *  the alarm keeps the notice saying it is on its way, as the e-file's card does (../due `pendingAlarms`). Where they
 *  are all here and name none (the server's rules or its view of the shop differ from the phone's: ../due
 *  `raisedNone`), the server raised none: the notice says so, as the e-file stops promising it. */
const SAVED_TEXT: Record<'patrol' | 'verify', Record<UploadStage, GridKey>> = {
  patrol: { offline: 'patrol.saved', uploading: 'patrol.savedUploading', uploaded: 'patrol.uploaded' },
  verify: { offline: 'verify.saved', uploading: 'verify.savedUploading', uploaded: 'verify.uploaded' },
};

export function savedRecords(kind: 'patrol' | 'verify', ids: readonly string[], alarms = false): Saved {
  if (!alarms) return { ids, text: (stage) => gt(SAVED_TEXT[kind][stage]) };
  const shop = splitId(ids[0] ?? '')[0];
  return {
    ids,
    text: (stage) => gt(stage === 'uploaded' ? 'alarm.pendingSent' : SAVED_TEXT[kind][stage]),
    answer: {
      ids: ids.map((id) => `${shop}:alarm:${splitId(id)[2]}`),
      text: () => gt('patrol.uploadedAlarm'),
      // The server's hazards of the patrols (./due `projected`) came down saying it raised none.
      none: {
        under: `${shop}:hazard:`,
        taken: async () => {
          const file = await loadShopFile(shop);
          return !!file && raisedNone(file, ids);
        },
        text: () => gt('patrol.uploadedNoAlarm'),
      },
    },
  };
}

/** The notice of what a form just saved, on the screen it went back to; null when nothing was. */
export function savedFlash(): HTMLElement | null {
  return savedNotice((text) => notice(text, 'ok', { 'data-flash': '' }));
}
