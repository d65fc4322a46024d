// The office's one alarm stream, followed for the whole signed-in session rather than by one screen: a new alarm
// reaches whatever screen is open at once (the banner above it, the count beside the alarm desk in the menu, the
// tab's title), and the alarm desk draws its cards from the same stream. Before, only an open desk heard of new
// alarms: an office working in the registry saw a serious one only when it next opened the desk.
import { apiFetch, currentSession } from '../session';
import { get, qs } from './api';
import { followStream, type SseEvent, type StreamState } from './sse';

export interface Watcher {
  event?: (event: SseEvent) => void;
  state?: (state: StreamState) => void;
  /** The alarms by status (`open` is those not yet acknowledged), whenever they may have changed. */
  counts?: (counts: Record<string, number>) => void;
  /** The element it draws into: once that has left the page (another screen), the watcher hears no more. */
  owner?: HTMLElement;
}

// Each watcher, with when it began to listen and whether its owner was on the page yet (a screen is put on the
// page a moment after it is made).
const watchers = new Map<Watcher, { since: number; shown: boolean }>();
const OWNER_GRACE_MS = 5000;

/** The watchers still listening; those whose owner left the page (or never came onto it) are dropped. */
function listening(): Watcher[] {
  const now = Date.now();
  for (const [w, life] of watchers) {
    if (!w.owner) continue;
    if (w.owner.isConnected) life.shown = true;
    else if (life.shown || now - life.since > OWNER_GRACE_MS) watchers.delete(w);
  }
  return [...watchers.keys()];
}
let stream: { stop: () => void } | null = null;
let state: StreamState = 'connecting';
let counted: Record<string, number> | null = null;
let recount: ReturnType<typeof setTimeout> | null = null;

const office = (): boolean => currentSession()?.user.role === 'office';

/** Count the alarms again, soon: several events in a burst make one request. */
function countSoon(delay = 300): void {
  if (recount !== null) return;
  recount = setTimeout(() => {
    recount = null;
    void get<{ counts?: Record<string, number> }>(`/api/office/alarms${qs({ status: 'open', limit: 1 })}`)
      .then((page) => {
        const found = page.counts ?? {};
        counted = found;
        for (const w of listening()) w.counts?.(found);
      })
      .catch(() => undefined);
  }, delay);
}

/** Follow the alarm stream, unless it is followed already; it ends when the office signs out. */
export function watchAlarms(): void {
  if (stream !== null || !office()) return;
  stream = followStream({
    open: (lastEventId, signal) =>
      apiFetch('/api/office/alarms/stream', {
        signal,
        headers: lastEventId ? { 'Last-Event-ID': lastEventId, Accept: 'text/event-stream' } : { Accept: 'text/event-stream' },
      }),
    onEvent: (event) => {
      for (const w of listening()) w.event?.(event);
      if (event.event === 'alarm' || event.event === 'reset') countSoon();
    },
    onState: (next) => {
      state = next;
      for (const w of listening()) w.state?.(next);
      if (next === 'live') countSoon(0); // (re)connected: alarms may have come and gone meanwhile
    },
    alive: () => {
      if (office()) return true;
      stopWatching();
      return false;
    },
  });
}

/** Stop following (signing out); the next `watchAlarms` starts again. */
export function stopWatching(): void {
  stream?.stop();
  stream = null;
  state = 'connecting';
  counted = null;
}

/** Hear the stream's events, its state and the counts (the known state and counts at once), for as long as the
 * watcher's owner is on the page. */
export function listen(watcher: Watcher): void {
  watchers.set(watcher, { since: Date.now(), shown: false });
  watcher.state?.(state);
  if (counted !== null) watcher.counts?.(counted);
}

/** `title` with the open alarms counted in front, as `(2) 概览 · 码上安全`, so a tab in the background shows them. */
export function countedTitle(title: string, open: number | undefined = counted?.open): string {
  const bare = title.replace(/^\(\d+\) /, '');
  return open ? `(${open}) ${bare}` : bare;
}
