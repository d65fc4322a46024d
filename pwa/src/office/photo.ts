// The office's photo thumbnails: fetched with the office token, tried again while a phone is still uploading them,
// and opened large on a tap (an open flame or a cracked gas hose cannot be judged at 96 px).
import { h } from '../dom';
import { ApiError, imageUrl } from './api';
import { ot } from './i18n';

// An alarm reaches the desk before its photos: the phone sends the text first and the photos after it, one by one.
// A photo the server does not have yet (404) is asked for again after these pauses, while its thumbnail is shown.
export const RETRY_MS = [2_000, 4_000, 8_000, 15_000, 30_000, 60_000, 120_000];

/** A thumbnail of the photo `id`, a button that opens it large. */
export function photoThumb(id: string, alt: string, attrs: Record<string, string> = {}): HTMLElement {
  const img = h('img', { alt, 'data-photo': id, width: '96', height: '96', ...attrs });
  const button = h(
    'button',
    { type: 'button', class: 'photo-thumb', 'aria-label': ot('photo.open'), disabled: true, 'data-photo-state': 'loading' },
    img,
  );
  const path = `/api/office/photos/${encodeURIComponent(id)}`;
  const load = (attempt: number): void => {
    imageUrl(path).then(
      (url) => {
        img.src = url;
        img.classList.remove('missing');
        button.disabled = false;
        button.dataset.photoState = 'shown';
        button.title = '';
        delete button.dataset.photoLabel;
      },
      (err: unknown) => {
        img.classList.add('missing');
        const waiting = err instanceof ApiError && err.status === 404 && attempt < RETRY_MS.length;
        button.dataset.photoState = waiting ? 'uploading' : 'missing';
        button.title = ot(waiting ? 'photo.uploading' : 'photo.missing');
        button.dataset.photoLabel = ot(waiting ? 'photo.uploadingShort' : 'photo.missingShort'); // on the thumbnail
        // Asked again only while the thumbnail is on a screen (a redraw replaces it with one that asks itself).
        if (waiting) setTimeout(() => button.isConnected && load(attempt + 1), RETRY_MS[attempt]);
      },
    );
  };
  load(0);
  button.addEventListener('click', () => {
    if (img.src) openPhoto(img.src, alt);
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
