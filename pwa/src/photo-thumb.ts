// A photo in a form not sent yet, with a button that takes it out of the form: a blurred or wrong picture is
// removed, not sent beside the right one. The form forgets the id; ../draft-photos `removeFormPhoto` then removes
// the picture from the phone.
import { h } from './dom';
import { removeFormPhoto } from './draft-photos';

export interface RemoveText {
  /** The button's name for screen readers ("Remove this photo"). */
  label: string;
  /** The question asked first: a hazard's photo may not be possible to take again. */
  ask: string;
}

/**
 * `img` in a frame with a remove button. Once the user confirmed, the frame leaves the page, `onRemove` takes the id
 * out of the form, and the photo leaves the phone after `saveDraft` has stored the form's draft without it (a form
 * without a draft passes none).
 */
export function removableThumb(
  img: HTMLImageElement,
  id: string,
  text: RemoveText,
  onRemove: (id: string) => void,
  saveDraft?: () => void,
): HTMLElement {
  const button = h(
    'button',
    { type: 'button', class: 'thumb-remove', 'data-remove-photo': id, 'aria-label': text.label, title: text.label },
    '×',
  );
  const frame = h('span', { class: 'thumb', 'data-photo-thumb': id }, img, button);
  button.addEventListener('click', () => {
    if (!frame.isConnected || !confirm(text.ask)) return; // a second tap queued behind the question
    frame.remove();
    onRemove(id);
    void removeFormPhoto(id, saveDraft).catch(() => undefined); // kept, it goes with the day-old sweep
  });
  return frame;
}
