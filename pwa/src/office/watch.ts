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
}

const watchers = new Set<Watcher>();
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
        for (const w of watchers) w.counts?.(found);
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
      for (const w of watchers) w.event?.(event);
      if (event.event === 'alarm' || event.event === 'reset') countSoon();
    },
    onState: (next) => {
      state = next;
      for (const w of watchers) w.state?.(next);
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

/** Hear the stream's events, its state and the counts (the known state and counts at once); returns the
 * function that stops. */
export function listen(watcher: Watcher): () => void {
  watchers.add(watcher);
  watcher.state?.(state);
  if (counted !== null) watcher.counts?.(counted);
  return () => watchers.delete(watcher);
}

/** `title` with the open alarms counted in front, as `(2) 概览 · 码上安全`, so a tab in the background shows them. */
export function countedTitle(title: string, open: number | undefined = counted?.open): string {
  const bare = title.replace(/^\(\d+\) /, '');
  return open ? `(${open}) ${bare}` : bare;
}
