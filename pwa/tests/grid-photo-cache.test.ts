import { beforeEach, describe, expect, it, vi } from 'vitest';

const signedIn = vi.hoisted(() => ({ user: 'grid:zhou' }));
vi.mock('../src/session', () => ({ currentSession: () => ({ user: { id: signedIn.user }, token: 'token' }) }));
vi.mock('../src/events', () => ({ photoUrl: async () => null }));

/** Cache Storage in memory, as much of it as the photo cache uses. */
function memoryCaches(): { storage: Map<string, Map<string, Response>>; api: unknown; lookups: { n: number } } {
  const storage = new Map<string, Map<string, Response>>();
  const lookups = { n: 0 };
  const open = async (name: string) => {
    const entries = storage.get(name) ?? new Map<string, Response>();
    storage.set(name, entries);
    const path = (r: string | Request): string => new URL(typeof r === 'string' ? r : r.url, 'http://phone').pathname;
    return {
      match: async (r: string | Request) => {
        lookups.n++;
        return entries.get(path(r))?.clone();
      },
      put: async (r: string | Request, res: Response) => void entries.set(path(r), res),
      keys: async () => [...entries.keys()].map((p) => new Request(`http://phone${p}`)),
      delete: async (r: string | Request) => entries.delete(path(r)),
    };
  };
  return { storage, lookups, api: { open, keys: async () => [...storage.keys()], delete: async (n: string) => storage.delete(n) } };
}

/** The phone's caches in memory, and a network whose first download waits until `release()`; `fetched` lists what
 *  was asked, in order. */
function slowFirstDownload(): { storage: ReturnType<typeof memoryCaches>['storage']; fetched: string[]; release: () => void } {
  const { storage, api } = memoryCaches();
  vi.stubGlobal('caches', api);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const fetched: string[] = [];
  vi.stubGlobal('fetch', async (path: string) => {
    fetched.push(path);
    if (fetched.length === 1) await held;
    return new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } });
  });
  return { storage, fetched, release };
}

describe("the owners' photos kept for an offline day", () => {
  beforeEach(() => {
    vi.resetModules();
    vi.stubGlobal('navigator', { onLine: true });
    signedIn.user = 'grid:zhou';
  });

  it('keeps the photos asked for while a round was running, once that round ends', async () => {
    // The first download is slow: the rest of the grid arrives meanwhile.
    const { storage, fetched, release } = slowFirstDownload();
    const { keepPhotos } = await import('../src/photo-cache');
    const first = keepPhotos(['S0001:photo:a']);
    await vi.waitFor(() => expect(fetched).toHaveLength(1));
    const later = keepPhotos(['S0001:photo:a', 'S0002:photo:b']); // the shops that came in the next piece
    release();
    await Promise.all([first, later]);
    await vi.waitFor(() =>
      expect([...(storage.get('mashang-grid-photos:grid:zhou')?.keys() ?? [])].sort()).toEqual([
        '/sync/S0001%3Aphoto%3Aa/photo.jpg',
        '/sync/S0002%3Aphoto%3Ab/photo.jpg',
      ]),
    );
    expect(fetched).toHaveLength(2); // a photo already kept is not fetched again
  });

  it('does not look the photos up again when the list asks for the same ones (each redraw of the list asks)', async () => {
    const { api, lookups } = memoryCaches();
    vi.stubGlobal('caches', api);
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (path: string) => {
      fetched.push(path);
      return new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } });
    });
    const { keepPhotos } = await import('../src/photo-cache');
    const ids = Array.from({ length: 50 }, (_, n) => `S${String(n).padStart(4, '0')}:photo:a`);
    await keepPhotos(ids);
    expect(fetched).toHaveLength(50);
    lookups.n = 0;
    await keepPhotos([...ids]);
    expect(lookups.n).toBe(0);
    // A new photo to keep: a round again, which fetches only that one.
    await keepPhotos([...ids, 'S0100:photo:b']);
    expect(fetched).toHaveLength(51);
  });

  it('tries again the photos the server did not have yet', async () => {
    const { api } = memoryCaches();
    vi.stubGlobal('caches', api);
    let missing = true;
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (path: string) => {
      fetched.push(path);
      if (missing) return new Response('{}', { status: 404 });
      return new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } });
    });
    const { keepPhotos } = await import('../src/photo-cache');
    await keepPhotos(['S0001:photo:a']);
    missing = false; // the owner's photo has gone up since
    await keepPhotos(['S0001:photo:a']);
    expect(fetched).toHaveLength(2);
  });

  it('ends a round whose photo never comes after the bounded wait, the request aborted, and keeps it next time', async () => {
    // A basement: the request is never answered. The round must not hang on it (the list asks again on each redraw).
    const { storage, api } = memoryCaches();
    vi.stubGlobal('caches', api);
    const signals: (AbortSignal | undefined)[] = [];
    let dead = true;
    vi.stubGlobal('fetch', (_path: string, init?: RequestInit) => {
      signals.push(init?.signal ?? undefined);
      if (!dead) return Promise.resolve(new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } }));
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)));
    });
    const { setPhotoTimeout } = await import('../src/photo-fetch');
    setPhotoTimeout(30);
    const { keepPhotos } = await import('../src/photo-cache');
    await keepPhotos(['S0001:photo:a', 'S0002:photo:b']);
    expect(signals).toHaveLength(1); // the signal is too poor: the rest waits for the next round
    expect(signals[0]?.aborted).toBe(true);
    expect([...(storage.get('mashang-grid-photos:grid:zhou')?.keys() ?? [])]).toEqual([]);
    dead = false;
    await keepPhotos(['S0001:photo:a', 'S0002:photo:b']);
    expect([...storage.get('mashang-grid-photos:grid:zhou')!.keys()].sort()).toEqual([
      '/sync/S0001%3Aphoto%3Aa/photo.jpg',
      '/sync/S0002%3Aphoto%3Ab/photo.jpg',
    ]);
  });

  it('does not keep a 200 that is no picture (a Wi-Fi login page) as the photo', async () => {
    const { storage, api } = memoryCaches();
    vi.stubGlobal('caches', api);
    vi.stubGlobal('fetch', async () => new Response('<html>请登录</html>', { headers: { 'content-type': 'text/html' } }));
    const { keepPhotos } = await import('../src/photo-cache');
    await keepPhotos(['S0001:photo:a']);
    expect([...(storage.get('mashang-grid-photos:grid:zhou')?.keys() ?? [])]).toEqual([]);
  });

  it("keeps an owner's hazard photos in the owner's own cache, drops a closed hazard's, and shows the rest offline", async () => {
    const { storage, api } = memoryCaches();
    vi.stubGlobal('caches', api);
    vi.stubGlobal('fetch', async () => new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } }));
    const { keepPhotos, thumbUrl } = await import('../src/photo-cache');
    await keepPhotos(['S0001:photo:a']); // the grid worker who handed the phone on
    signedIn.user = 'owner:S0001';
    await keepPhotos(['S0001:photo:open', 'S0001:photo:fixed']);
    await keepPhotos(['S0001:photo:open']); // the grid worker passed the fix: that hazard is closed
    expect([...storage.keys()]).toEqual(['mashang-grid-photos:owner:S0001']); // nobody else's photos stay
    expect([...storage.get('mashang-grid-photos:owner:S0001')!.keys()]).toEqual(['/sync/S0001%3Aphoto%3Aopen/photo.jpg']);
    // In the back of the shop with no signal: the open hazard's photo shows, the closed one's is not on the phone.
    vi.stubGlobal('navigator', { onLine: false });
    vi.stubGlobal('fetch', async () => Promise.reject(new TypeError('Failed to fetch')));
    expect(await thumbUrl('S0001:photo:open')).toMatch(/^blob:/);
    expect(await thumbUrl('S0001:photo:fixed')).toBeNull();
  });

  it('keeps the photos again when the user signs back in after signing out during a round', async () => {
    // A slow download: the owner signs out meanwhile.
    const { storage, fetched, release } = slowFirstDownload();
    const { keepPhotos, forgetPhotos } = await import('../src/photo-cache');
    const round = keepPhotos(['S0001:photo:a', 'S0001:photo:b']);
    await vi.waitFor(() => expect(fetched).toHaveLength(1));
    await forgetPhotos(); // signing out
    release();
    await round;
    expect(fetched).toHaveLength(1); // no more fetched for a user who signed out
    expect([...storage.keys()]).toEqual([]);
    // The same owner signs in again, and the home asks for the same photos: they are on the phone for the offline day.
    await keepPhotos(['S0001:photo:a', 'S0001:photo:b']);
    expect([...(storage.get('mashang-grid-photos:grid:zhou')?.keys() ?? [])].sort()).toEqual([
      '/sync/S0001%3Aphoto%3Aa/photo.jpg',
      '/sync/S0001%3Aphoto%3Ab/photo.jpg',
    ]);
  });

  it('keeps none of them once the user signs out: a phone handed on holds nobody\'s photos', async () => {
    const { storage, api } = memoryCaches();
    vi.stubGlobal('caches', api);
    vi.stubGlobal('fetch', async () => new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { headers: { 'content-type': 'image/jpeg' } }));
    const revoked = vi.spyOn(URL, 'revokeObjectURL');
    const { keepPhotos, thumbUrl, forgetPhotos } = await import('../src/photo-cache');
    await keepPhotos(['S0001:photo:a']);
    expect(await thumbUrl('S0001:photo:a')).toMatch(/^blob:/); // shown, and its object URL remembered
    await forgetPhotos(); // what signing out does (session.ts signOut)
    expect([...storage.keys()]).toEqual([]);
    expect(revoked).toHaveBeenCalledOnce();
    vi.stubGlobal('navigator', { onLine: false });
    expect(await thumbUrl('S0001:photo:a')).toBeNull(); // neither from the cache nor from memory
  });
});
