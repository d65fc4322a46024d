// The office's photo thumbnails: fetched with the office token, as the phones fetch theirs (../photo-fetch: given up
// after 20 s without a byte, an answer that is no picture refused), tried again while a phone is still uploading them,
// said when they did not load (加载失败，点按重试, a tap tries again: on a stalled network the frame stayed empty for
// good), and opened large on a tap (an open flame or a cracked gas hose cannot be judged at 96 px).
import { h } from '../dom';
import { ApiError, imageUrl } from './api';
import { ot, type OfficeKey } from './i18n';

// An alarm reaches the desk before its photos: the phone sends the text first and the photos after it, one by one.
// A photo the server does not have yet (404) is asked for again after these pauses, while its thumbnail is shown.
export const RETRY_MS = [2_000, 4_000, 8_000, 15_000, 30_000, 60_000, 120_000];

/** What a thumbnail without its picture says: on hover, and on the thumbnail itself. */
const SAID: Record<'uploading' | 'missing' | 'failed', [OfficeKey, OfficeKey]> = {
  uploading: ['photo.uploading', 'photo.uploadingShort'],
  missing: ['photo.missing', 'photo.missingShort'],
  failed: ['photo.failed', 'photo.failedShort'],
};

/** A thumbnail of the photo `id`, a button that opens it large, or that tries again when it did not load. */
export function photoThumb(id: string, alt: string, attrs: Record<string, string> = {}): HTMLElement {
  const img = h('img', { alt, 'data-photo': id, width: '96', height: '96', ...attrs });
  const button = h(
    'button',
    { type: 'button', class: 'photo-thumb', 'aria-label': ot('photo.open'), disabled: true, 'data-photo-state': 'loading' },
    img,
  );
  const path = `/api/office/photos/${encodeURIComponent(id)}`;
  const load = (attempt: number): void => {
    button.disabled = true; // one fetch at a time
    imageUrl(path).then(
      (url) => {
        img.src = url;
        img.classList.remove('missing');
        button.disabled = false;
        button.dataset.photoState = 'shown';
        button.title = '';
        button.setAttribute('aria-label', ot('photo.open'));
        delete button.dataset.photoLabel;
      },
      (err: unknown) => {
        img.classList.add('missing');
        const absent = err instanceof ApiError && err.status === 404;
        const waiting = absent && attempt < RETRY_MS.length;
        const state = waiting ? 'uploading' : absent ? 'missing' : 'failed';
        const [long, short] = SAID[state];
        button.dataset.photoState = state;
        button.title = ot(long);
        button.dataset.photoLabel = ot(short); // on the thumbnail
        button.setAttribute('aria-label', ot(long));
        // Not there yet: asked again by itself, only while the thumbnail is on a screen (a redraw replaces it with
        // one that asks itself). Not there after all that, or not loaded: a tap tries again.
        if (waiting) setTimeout(() => button.isConnected && load(attempt + 1), RETRY_MS[attempt]);
        else button.disabled = false;
      },
    );
  };
  load(0);
  button.addEventListener('click', () => {
    if (button.dataset.photoState === 'shown') openPhoto(img.src, alt);
    else if (button.dataset.photoState === 'failed' || button.dataset.photoState === 'missing') {
      button.dataset.photoState = 'loading';
      load(RETRY_MS.length); // once: a photo still not there says so again
    }
  });
  return button;
}

/** The photo at `url` over the screen, as large as it fits; Esc, the close button or a tap outside it closes it. */
export function openPhoto(url: string, alt: string): void {
  const close = h('button', { type: 'button', class: 'button', 'data-action': 'close-photo' }, ot('photo.close'));
  const dialog = h(
    'dialog',
    { class: 'photo-viewer', 'aria-label': alt },
    h('img', { src: url, alt }),
    h('div', { class: 'actions' }, close),
  );
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close(); // the backdrop
  });
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
