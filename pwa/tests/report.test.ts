import { beforeEach, describe, expect, it, vi } from 'vitest';

const pending = { docs: 0, photos: 1 };
vi.mock('../src/db', () => ({
  pendingCounts: async () => ({ ...pending }),
  refusedDocs: () => [],
  syncTimes: () => ({ last_push: '2026-11-29T10:00:00Z', last_pull: null }),
}));
vi.mock('../src/device', () => ({ deviceId: () => 'd-test' }));
const sent: { pending_photos: number }[] = [];
let release: () => void = () => undefined;
vi.mock('../src/session', () => ({
  currentSession: () => ({ user: { id: 'owner:S0001' }, token: 'token' }),
  apiFetch: async (_path: string, opts: { json: { pending_photos: number } }) => {
    sent.push(opts.json);
    if (sent.length === 1) await new Promise<void>((resolve) => (release = resolve)); // the first one is slow
    return new Response('{}');
  },
}));

describe("the device's report to the sync monitor", () => {
  beforeEach(() => {
    vi.stubGlobal('navigator', { onLine: true });
  });

  it('is sent again when the figures changed while a report was on its way', async () => {
    const { reportNow } = await import('../src/report');
    const first = reportNow(); // the text is up, the photo still waiting
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    pending.photos = 0; // the photos' sync caught up meanwhile
    const second = reportNow();
    release();
    await Promise.all([first, second]);
    expect(sent.map((r) => r.pending_photos)).toEqual([1, 0]);
  });
});
