// Server-sent events over fetch(): EventSource cannot send an Authorization header, so the office reads the
// alarm stream with a ReadableStream reader, parses it here, and reconnects with back-off and Last-Event-ID.

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** An incremental parser of the text/event-stream format (chunks may split lines anywhere). */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | null = null;
  /** The last `id:` seen, to send back as Last-Event-ID when reconnecting. */
  lastEventId: string | null = null;
  /** The server's `retry:` advice in milliseconds, if it gave one. */
  retry: number | null = null;

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone '\r' at the end of a chunk may be the first half of '\r\n': wait for more.
      if (width === 1 && this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      const found = this.line(line);
      if (found) out.push(found);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (this.id !== null) this.lastEventId = this.id;
      const done =
        this.data.length > 0
          ? { id: this.id, event: this.event || 'message', data: this.data.join('\n') }
          : null;
      this.data = [];
      this.event = '';
      this.id = null;
      return done;
    }
    if (line.startsWith(':')) return null; // a comment (keepalive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/** Wait before reconnection attempt `n` (0-based): 1 s, 2 s, 4 s ... capped at 30 s. */
export function reconnectDelay(attempt: number, advised: number | null = null): number {
  const base = Math.max(advised ?? 1000, 250);
  return Math.min(base * 2 ** Math.max(0, attempt), 30_000);
}

export type StreamState = 'connecting' | 'live' | 'retrying';

export interface StreamOptions {
  /** Opens the stream (the caller adds the bearer token); `lastEventId` is null on the first connection. */
  open: (lastEventId: string | null, signal: AbortSignal) => Promise<Response>;
  onEvent: (event: SseEvent) => void;
  onState?: (state: StreamState) => void;
  /** Stops for good when this returns false (e.g. the page left the screen). */
  alive?: () => boolean;
}

/** Follow a stream until `stop()` is called: reconnect after errors and ends, with back-off. */
export function followStream(options: StreamOptions): { stop: () => void } {
  const controller = new AbortController();
  const alive = (): boolean => !controller.signal.aborted && (options.alive?.() ?? true);
  let lastEventId: string | null = null;
  let advised: number | null = null;

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (alive()) {
      options.onState?.('connecting');
      try {
        const response = await options.open(lastEventId, controller.signal);
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        options.onState?.('live');
        attempt = 0;
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done || !alive()) break;
          for (const event of parser.feed(value)) options.onEvent(event);
          if (parser.lastEventId !== null) lastEventId = parser.lastEventId;
          if (parser.retry !== null) advised = parser.retry;
        }
        if (!alive()) void reader.cancel().catch(() => undefined);
      } catch {
        // network error, 5xx, token expired: try again after a while
      }
      if (!alive()) break;
      options.onState?.('retrying');
      await new Promise((resolve) => setTimeout(resolve, reconnectDelay(attempt++, advised)));
    }
  };
  void run();
  return { stop: () => controller.abort() };
}
