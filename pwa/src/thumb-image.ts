// A photo's thumbnail on the owner's and the grid worker's screens, loaded from the phone's copy or the server
// (./photo-cache `thumbUrl`): at once, or once it comes near the screen. What the frame says when there is no picture:
// offline, a photo the phone does not keep is said (联网后显示) and loads in place once the signal is back; online, a
// photo that did not load (the server answered an error or something that is no picture, the signal dropped mid-way
// or stalled for 20 s (./photo-fetch), the photo is gone or does not decode) says so and tries again on a tap
// (加载失败，点按重试; 照片未上传 when the server does not have it yet: the phone that took it has not uploaded it),
// and by itself only when the signal comes back after being lost: never in a loop while online.
import { h } from './dom';
import { notUploaded } from './events';
import { forgetThumb, thumbUrl } from './photo-cache';
import { getSyncStatus, onSyncStatus } from './sync-status';

export interface ThumbOptions {
  /** The picture's own attributes (alt, width, height). */
  img?: Record<string, string>;
  /** Load once it comes near the screen, not at once (an e-file holds a year of photos). */
  lazy?: boolean;
  /** Offline, for a photo the phone does not keep: the class of the screen's frame, and its words. */
  offline: { class: string; text: string };
  /** Online, for a photo that did not load: the words of its button (style.css `.photo-failed`), which retries. */
  failed: string;
  /** The same button's words when the server does not have the photo (404): its phone has not uploaded it yet. */
  missing: string;
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

/** The frames of photos not shown (offline, or failed), and how each loads again: when the signal comes back, those
 *  still on the page (the screen still shown). */
const untilOnline = new Map<HTMLElement, () => void>();
let stopWatching: (() => void) | null = null;

/** Load `again` when the signal is back (the sync status leaves `offline`), if `frame` is still on the page then.
 *  Only after a time offline: a frame that failed while online does not try again by itself until the signal has
 *  dropped and come back. One watcher for them all, while any waits. */
function whenOnline(frame: HTMLElement, again: () => void): void {
  if (untilOnline.size >= 300) {
    // Offline, each redraw of the e-file draws its placeholders anew: the earlier ones are not waited for.
    for (const el of untilOnline.keys()) if (!el.isConnected) untilOnline.delete(el);
  }
  untilOnline.set(frame, again);
  if (stopWatching) return;
  let wasOffline = getSyncStatus().state === 'offline';
  stopWatching = onSyncStatus((status) => {
    if ((status.state === 'offline') === wasOffline) return;
    wasOffline = status.state === 'offline';
    if (wasOffline) return;
    const frames = [...untilOnline];
    untilOnline.clear();
    stopWatching?.();
    stopWatching = null;
    for (const [el, load] of frames) if (el.isConnected) load();
  });
}

/** One photo's thumbnail, its picture loaded (from the phone, or the server): at once, or (`lazy`) once it comes near
 *  the screen. Without its picture, it says why in a frame of the thumbnail's size, not an empty one: offline, a
 *  photo the phone does not keep (./photo-cache) shows `offline.text` and loads once the signal is back; online, a
 *  photo that did not load shows `failed` on a button that tries again, and tries by itself once the signal is back
 *  after a time without. Either loads in place while it is still shown. */
export function thumbImage(id: string, opts: ThumbOptions): HTMLImageElement {
  const img = h('img', { alt: '', loading: 'lazy', 'data-photo': id, ...opts.img });
  let shown: HTMLElement = img; // the image, or the frame said in its place
  let offline: HTMLElement | null = null;
  let failed: HTMLButtonElement | null = null;
  const show = (el: HTMLElement): void => {
    if (shown !== el) shown.replaceWith(el);
    shown = el;
  };
  const again = (): void => (opts.lazy ? whenNear(shown, load) : load());
  /** What the frame shows once the picture came (`url`), or did not. */
  const landed = (url: string | null): void => {
    if (url) {
      img.src = url;
      show(img);
      return;
    }
    if (!shown.parentNode) return; // a drawing left aside before it was shown
    if (getSyncStatus().state === 'offline') {
      offline ??= h('span', { class: opts.offline.class, 'data-photo-offline': id }, opts.offline.text);
      show(offline);
    } else {
      if (!failed) {
        const button = h('button', { type: 'button', class: 'photo-failed', 'data-photo-failed': id }, opts.failed);
        button.addEventListener('click', () => {
          button.disabled = true; // trying: one fetch at a time
          load();
        });
        failed = button;
      }
      failed.disabled = false;
      failed.textContent = notUploaded(id) ? opts.missing : opts.failed;
      show(failed);
    }
    whenOnline(shown, again);
  };
  const load = (): void => void thumbUrl(id).then(landed, () => landed(null));
  // A picture that came but does not decode (its bytes are no photo after all) is said as one that did not load, not
  // shown broken; the phone forgets it, so the next try reads or fetches it anew.
  img.addEventListener('error', () => {
    if (!img.getAttribute('src')) return;
    img.removeAttribute('src');
    void forgetThumb(id).then(
      () => landed(null),
      () => landed(null),
    );
  });
  if (opts.lazy) whenNear(img, load);
  else load();
  return img;
}
