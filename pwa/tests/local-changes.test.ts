// @vitest-environment happy-dom
// Everything on the phone that follows the local database's changes (the screen shown, the pending count, the grid's
// alarm news) shares one live feed: PouchDB reads every changed document again for each feed, and a grid worker's
// first download writes ~13,000 of them.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const pouch = vi.hoisted(() => ({
  feeds: [] as { options: Record<string, unknown>; cancelled: boolean; emit: (e: string, c: unknown) => void }[],
  docs: new Map<string, unknown>(),
}));

vi.mock('pouchdb-browser', async () => {
  const { EventEmitter: Emitter } = await import('events');
  return {
    default: class {
      setMaxListeners(): void {}
      async get(id: string): Promise<unknown> {
        if (pouch.docs.has(id)) return pouch.docs.get(id);
        throw Object.assign(new Error('missing'), { status: 404 });
      }
      async allDocs() {
        return { rows: [] };
      }
      changes(options: Record<string, unknown>) {
        const feed = Object.assign(new Emitter(), {
          options,
          cancelled: false,
          cancel() {
            feed.cancelled = true;
          },
        });
        pouch.feeds.push(feed);
        return feed;
      }
    },
  };
});

const live = () => pouch.feeds.filter((f) => f.options.live && !f.cancelled);

beforeEach(() => {
  vi.resetModules();
  vi.useRealTimers();
  pouch.feeds = [];
  pouch.docs.clear();
});

describe("the local database's changes", () => {
  it('reach the screen shown and the alarm news through one live feed', async () => {
    const { whileShown } = await import('../src/db');
    const { alarmBanner } = await import('../src/grid/alarm-news');
    const node = document.createElement('section');
    const banner = alarmBanner(); // the grid's screens show it above their own
    document.body.replaceChildren(banner, node);
    const redrawn = vi.fn();
    whileShown(node, redrawn, 10);
    expect(live()).toHaveLength(1);

    const at = new Date().toISOString();
    const alarm = { _id: 'S1:alarm:A', type: 'alarm', shop: 'S1', status: 'open', created_at: at, items: [] };
    live()[0]?.emit('change', { id: alarm._id, seq: 7, changes: [], doc: alarm });
    await vi.waitFor(() => expect(banner.dataset.alarmNews).toBe('S1:alarm:A'));
    await vi.waitFor(() => expect(redrawn).toHaveBeenCalledTimes(1));
    const { followChanges } = await import('../src/db');
    const stopCount = followChanges(() => undefined); // the pending count
    expect(live()).toHaveLength(1);

    // Another screen replaces the first one's follower, on the same feed.
    const next = document.createElement('section');
    node.replaceWith(next);
    const again = vi.fn();
    whileShown(next, again, 10);
    expect(live()).toHaveLength(1);
    live()[0]?.emit('change', { id: 'S1:patrol:B', seq: 8, changes: [], doc: {} });
    await vi.waitFor(() => expect(again).toHaveBeenCalledTimes(1));
    expect(redrawn).toHaveBeenCalledTimes(1);

    stopCount();
    expect(live()).toHaveLength(1); // the screen and the alarm news still follow
  });

  it("announce a colleague's alarm, not the one this phone's own patrol raised", async () => {
    const { deviceId } = await import('../src/device');
    const { alarmBanner } = await import('../src/grid/alarm-news');
    const banner = alarmBanner();
    document.body.replaceChildren(banner);
    const patrol = (id: string, device: string) => pouch.docs.set(id, { _id: id, type: 'patrol', device });
    patrol('S2:patrol:MINE', deviceId()); // sent from here after an offline day
    patrol('S2:patrol:THEIRS', 'd-colleague');
    const alarm = (id: string, source: string) => {
      const doc = { _id: id, type: 'alarm', shop: 'S2', status: 'open', source, created_at: new Date().toISOString(), items: [] };
      live()[0]?.emit('change', { id, seq: 9, changes: [], doc });
    };
    alarm('S2:alarm:MINE', 'S2:patrol:MINE');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(banner.hidden).toBe(true); // the worker submitted it: no 新报警 for it
    alarm('S2:alarm:THEIRS', 'S2:patrol:THEIRS');
    await vi.waitFor(() => expect(banner.dataset.alarmNews).toBe('S2:alarm:THEIRS'));
    expect(banner.hidden).toBe(false);
  });

  it('stop being read once nobody follows them', async () => {
    const { followChanges } = await import('../src/db');
    const stop = followChanges(() => undefined);
    expect(live()).toHaveLength(1);
    stop();
    expect(live()).toHaveLength(0);
  });

  it('go on after the live feed fails: another one is opened for those who follow', async () => {
    const { followChanges } = await import('../src/db');
    const heard = vi.fn();
    const stop = followChanges(heard);
    live()[0]?.emit('error', new Error('the IndexedDB connection closed'));
    await vi.waitFor(() => expect(live().filter((f) => f !== pouch.feeds[0])).toHaveLength(1), { timeout: 3000 });
    const reopened = pouch.feeds.at(-1)!;
    expect(reopened.options).toMatchObject({ since: 'now', live: true, include_docs: true });
    reopened.emit('change', { id: 'S1:patrol:C', seq: 9, changes: [], doc: {} });
    expect(heard).toHaveBeenCalledTimes(1);
    stop();
    expect(live().filter((f) => f === reopened)).toHaveLength(0);
  });

  it("redraw the screen shown when the header's pending or refused count changes, with no write", async () => {
    const { whileShown } = await import('../src/db');
    const { updateSyncFacts } = await import('../src/sync-status');
    updateSyncFacts({ online: true, pendingDocs: 1, refused: 0 });
    const node = document.createElement('section');
    document.body.replaceChildren(node);
    const redrawn = vi.fn();
    whileShown(node, redrawn, 10);
    updateSyncFacts({ pendingDocs: 0 }); // the server took the record
    await vi.waitFor(() => expect(redrawn).toHaveBeenCalledTimes(1));
    updateSyncFacts({ refused: 1 }); // or refused one: kept in the phone's storage
    await vi.waitFor(() => expect(redrawn).toHaveBeenCalledTimes(2));
    updateSyncFacts({ online: false }); // neither count changed: nothing to draw again
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(redrawn).toHaveBeenCalledTimes(2);
  });
});
