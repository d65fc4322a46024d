// Small DOM pieces the grid screens share: badges, photo thumbnails, labels of items and days.
import { h, type Child } from '../dom';
import { getLang } from '../i18n';
import type { Severity, TemplateDoc } from './docs';
import { dayOf } from './due';
import { gt } from './i18n';
import { thumbUrl } from '../photo-cache';
import { getSyncStatus, onSyncStatus } from '../sync-status';
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

const waiting = new Map<Element, () => void>();
let nearScreen: IntersectionObserver | null | undefined;
let sweepAt = 300;
let sweepQueued = false;

/** Stop watching the thumbnails a redraw took off the page (the e-file is drawn again at each change of the data).
 *  In a task of its own: a drawing builds its thumbnails off the page and puts them there at its end, and a sweep in
 *  the middle of it forgot the thumbnails built so far (the top of the e-file), which then never loaded. */
function forgetDetached(): void {
  sweepQueued = false;
  for (const el of waiting.keys()) {
    if (el.isConnected) continue;
    nearScreen?.unobserve(el);
    waiting.delete(el);
  }
  sweepAt = Math.max(300, waiting.size * 2);
}

/** Run `load` once `el` comes near the screen; at once where the browser cannot tell. */
function whenNear(el: Element, load: () => void): void {
  nearScreen ??=
    typeof IntersectionObserver === 'undefined'
      ? null
      : new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (!entry.isIntersecting) continue;
              nearScreen?.unobserve(entry.target);
              waiting.get(entry.target)?.();
              waiting.delete(entry.target);
            }
          },
          { rootMargin: '400px 0px' },
        );
  if (!nearScreen) {
    load();
    return;
  }
  if (waiting.size >= sweepAt && !sweepQueued) {
    sweepQueued = true;
    setTimeout(forgetDetached, 0);
  }
  waiting.set(el, load);
  nearScreen.observe(el);
}

/** The placeholders of photos not on the phone, shown while offline, and how each loads again: when the signal
 *  comes back, those still on the page (the screen still shown). */
const untilOnline = new Map<HTMLElement, () => void>();
let stopWatching: (() => void) | null = null;

/** Load `again` when the signal is back (the sync status leaves `offline`), if `placeholder` is still on the page
 *  then. One watcher for them all, while any waits. */
function whenOnline(placeholder: HTMLElement, again: () => void): void {
  if (untilOnline.size >= 300) {
    // Offline, each redraw of the e-file draws its placeholders anew: the earlier ones are not waited for.
    for (const el of untilOnline.keys()) if (!el.isConnected) untilOnline.delete(el);
  }
  untilOnline.set(placeholder, again);
  if (stopWatching) return;
  let wasOffline = true;
  stopWatching = onSyncStatus((status) => {
    if ((status.state === 'offline') === wasOffline) return;
    wasOffline = status.state === 'offline';
    if (wasOffline) return;
    const waiting = [...untilOnline];
    untilOnline.clear();
    stopWatching?.();
    stopWatching = null;
    for (const [el, load] of waiting) if (el.isConnected) load();
  });
}

/** One photo's thumbnail, its picture loaded (from the phone, or the server): at once, or (`lazy`) once it comes
 *  near the screen. Offline, a photo the phone does not keep (../photo-cache) shows 联网后显示 in a frame of the
 *  thumbnail's size, not an empty one, and loads once the signal is back while it is still shown. */
export function thumbImage(id: string, lazy = false): HTMLImageElement {
  const img = h('img', { alt: '', loading: 'lazy', 'data-photo': id, width: '64', height: '64' });
  let shown: Element = img; // the image, or its placeholder
  const load = (): void =>
    void thumbUrl(id).then((url) => {
      if (!url && getSyncStatus().state === 'offline' && (shown !== img || img.parentNode)) {
        if (shown === img) {
          const placeholder = h('span', { class: 'g-photo-offline', 'data-photo-offline': id }, gt('photo.offline'));
          img.replaceWith(placeholder);
          shown = placeholder;
        }
        const placeholder = shown as HTMLElement;
        whenOnline(placeholder, () => (lazy ? whenNear(placeholder, load) : load()));
        return;
      }
      if (url) img.src = url;
      else img.classList.add('missing');
      if (shown !== img) shown.replaceWith(img);
      shown = img;
    });
  if (lazy) whenNear(img, load);
  else load();
  return img;
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'g-section' }, h('h2', {}, title), ...children);
}

export function notice(text: string, tone: Tone = 'muted', attrs: Record<string, string> = {}): HTMLElement {
  return h('p', { class: `g-notice ${tone}`, role: tone === 'bad' ? 'alert' : 'status', ...attrs }, text);
}
