// Drafts: a form's state saved as it is typed (debounced) in localStorage, which survives a reload and a
// killed tab synchronously; restored when the form opens again, cleared on submit.
import { store, stored } from './device';

/** Same value as router.ts LEAVING_EVENT (kept here so drafts do not load the router). */
const LEAVING_EVENT = 'mashang:leaving';

const PREFIX = 'mashang.draft.';
export const DRAFT_DELAY_MS = 400;

export function loadDraft<T>(key: string): T | null {
  const raw = stored(PREFIX + key);
  if (raw === null) return null;
  try {
    return (JSON.parse(raw) as { value: T }).value;
  } catch {
    return null;
  }
}

/** The forms that keep a draft, as 退出登录's question names them (../sign-out): the owner's self-check and
 *  rectification, the grid worker's patrol. */
export type DraftKind = 'check' | 'rectify' | 'patrol';

/** What a form tells of its draft, kept beside it: its kind, and whether it holds anything the user entered (an
 *  answer, a note, a photo). A form only opened, or emptied again, loses nothing at sign-out and is not asked about. */
export interface DraftAbout<T> {
  kind: DraftKind;
  entered(value: T): boolean;
}

export function saveDraft<T>(key: string, value: T, about?: DraftAbout<T>): void {
  // Without a word of it from the form, a draft counts as entered: asked about rather than lost.
  const told = about ? { kind: about.kind, entered: about.entered(value) } : { entered: true };
  store(PREFIX + key, JSON.stringify({ value, saved_at: Date.now(), ...told }));
}

export function clearDraft(key: string): void {
  store(PREFIX + key, null);
}

/** The storage keys of every saved draft (throws when there is no storage). */
function draftKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (key?.startsWith(PREFIX)) keys.push(key);
  }
  return keys;
}

/** A photo's id (../draft-photos PHOTO_ID), anywhere in a draft's text. */
const NAMES_PHOTO = /:photo:[0-9A-HJKMNP-TV-Z]{26}\b/;

/** The kinds of the saved drafts holding something the user entered, each once (`other`: a draft that does not say
 *  its kind): what signing out would lose. A draft saved before drafts told whether they held anything counts when it
 *  names a photo, as the question before asked of those alone. */
export function enteredDrafts(): (DraftKind | 'other')[] {
  const kinds = new Set<DraftKind | 'other'>();
  try {
    for (const key of draftKeys()) {
      const raw = localStorage.getItem(key) ?? '';
      let saved: { entered?: unknown; kind?: unknown } | null = null;
      try {
        saved = JSON.parse(raw) as { entered?: unknown; kind?: unknown } | null;
      } catch {
        // unreadable: nothing a form could restore
      }
      const entered = typeof saved?.entered === 'boolean' ? saved.entered : NAMES_PHOTO.test(raw);
      if (!entered) continue;
      const kind = saved?.kind;
      kinds.add(kind === 'check' || kind === 'rectify' || kind === 'patrol' ? kind : 'other');
    }
  } catch {
    // no storage: no draft kept
  }
  return [...kinds];
}

// How many times every draft was forgotten: a form's autosave made before saves nothing after (a photo finishing, or a
// pending save, after 退出登录 put the signed-out owner's draft back on a phone handed on).
let forgotten = 0;

/** Forget every draft (the phone's local data is being removed: a phone handed on shows none of them). */
export function clearAllDrafts(): void {
  forgotten += 1;
  try {
    for (const key of draftKeys()) localStorage.removeItem(key);
  } catch {
    // no storage: nothing kept
  }
}

/** Whether any saved draft mentions `text` (a photo's id): its photo is still part of a form not yet sent. */
export function draftsMention(text: string): boolean {
  try {
    return draftKeys().some((key) => (localStorage.getItem(key) ?? '').includes(text));
  } catch {
    return true; // storage unreadable: keep the photo rather than lose a draft's
  }
}

export interface Autosave {
  /** Call on every change: saves after a short pause. */
  touch(): void;
  /** Save now (e.g. before the page hides). */
  flush(): void;
  /** Forget the draft (after a submit) and stop saving. */
  clear(): void;
}

export interface AutosaveOptions<T> {
  /** What the draft is, kept beside it (`enteredDrafts`). */
  about?: DraftAbout<T>;
  delayMs?: number;
}

/** Save `read()` under `key` a moment after each touch(), and at once when the page is hidden. */
export function autosave<T>(key: string, read: () => T, opts: AutosaveOptions<T> = {}): Autosave {
  const delayMs = opts.delayMs ?? DRAFT_DELAY_MS;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const born = forgotten;
  const flush = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (!stopped && born === forgotten) saveDraft(key, read(), opts.about);
  };
  const onHide = (): void => {
    if (timer !== null) flush();
  };
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onHide);
  if (typeof window !== 'undefined') {
    window.addEventListener('pagehide', onHide);
    window.addEventListener(LEAVING_EVENT, onHide); // another screen (or language) replaces this one
  }
  return {
    touch(): void {
      if (stopped || born !== forgotten) return;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(flush, delayMs);
    },
    flush,
    clear(): void {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      clearDraft(key);
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onHide);
      if (typeof window !== 'undefined') {
        window.removeEventListener('pagehide', onHide);
        window.removeEventListener(LEAVING_EVENT, onHide);
      }
    },
  };
}
