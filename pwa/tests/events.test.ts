// One submission's events (a check of several checklist modules) are written at one moment, in one write.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const written: Record<string, unknown>[][] = [];
/** What happened, in order: photos moved to the photos database, then events written. */
const steps: string[] = [];
/** The drafts' photos on the phone (../src/draft-photos), by id. */
const held = new Map<string, Record<string, unknown>>();
let failWith: { error: boolean; name: string; message: string } | null = null;
/** What the header was told was written (../src/db noteWritten): only what the write kept. */
const noted: string[] = [];
vi.mock('../src/db', () => ({
  localDb: () => ({
    bulkDocs: async (docs: Record<string, unknown>[]) => {
      if (failWith) return docs.map(() => failWith);
      written.push(docs);
      steps.push(`events ${docs.length}`);
      return docs.map((d) => ({ ok: true, id: d._id, rev: '1-a' }));
    },
  }),
  draftPhotosDb: () => ({
    getAttachment: async () => {
      throw Object.assign(new Error('missing'), { status: 404 });
    },
    get: async (id: string) => {
      const doc = held.get(id);
      if (!doc) throw Object.assign(new Error('missing'), { status: 404 });
      return { ...doc, _id: id, _rev: '1-x' };
    },
    remove: async (id: string) => void held.delete(id),
  }),
  photoDbs: () => [],
  noteWritten: (ids: string[]) => void noted.push(...ids),
  putPhoto: async (doc: Record<string, unknown>) => {
    if ('_rev' in doc) throw new Error('a moved photo is a new document in the photos database');
    steps.push(`photo ${String(doc._id)}`);
  },
}));
vi.mock('../src/device', () => ({ deviceId: () => 'd-test' }));
vi.mock('../src/session', () => ({ currentSession: () => ({ user: { id: 'owner:S0001' }, token: 't' }) }));

describe('appendEvents', () => {
  beforeEach(() => {
    written.length = 0;
    steps.length = 0;
    held.clear();
    failWith = null;
    noted.length = 0;
  });

  it('moves the photos a submission refers to out of its draft before writing it, and only those', async () => {
    const { appendEvents } = await import('../src/events');
    const mine = 'S0001:photo:01JDX0000000000000000000AB';
    const left = 'S0001:photo:01JDX0000000000000000000AC'; // of a finding removed: the submission does not refer to it
    const theirs = 'S0001:photo:01JDX0000000000000000000AD'; // a grid worker's, already on the server
    held.set(mine, { type: 'photo' });
    held.set(left, { type: 'photo' });
    await appendEvents([
      { type: 'rectification', shop: 'S0001', hazard: 'S0001:hazard:x', photos: [mine], before: [theirs] },
    ]);
    expect(steps).toEqual([`photo ${mine}`, 'events 1']);
    expect([...held.keys()]).toEqual([left]);
  });

  it('writes a submission of several modules at one moment, in one write', async () => {
    const { appendEvents } = await import('../src/events');
    const ids = await appendEvents([
      { type: 'self_check', shop: 'S0001', template: 'district:template:fire-gas', template_version: 1, answers: {} },
      { type: 'self_check', shop: 'S0001', template: 'district:template:food', template_version: 1, answers: {} },
    ]);
    expect(written).toHaveLength(1);
    const [batch] = written;
    expect(batch?.map((d) => d._id)).toEqual(ids);
    expect(new Set(batch?.map((d) => d.performed_at)).size).toBe(1);
    expect(new Set(ids).size).toBe(2);
    expect(noted).toEqual(ids); // counted as waiting at once
    expect(batch?.every((d) => d.created_by === 'owner:S0001' && d.device === 'd-test' && d.schema === 1)).toBe(true);
  });

  it('throws the storage error when the write fails, so the draft is kept and nothing is half written', async () => {
    const { appendEvents, isQuotaError } = await import('../src/events');
    failWith = { error: true, name: 'QuotaExceededError', message: 'The quota has been exceeded.' };
    const err = await appendEvents([{ type: 'self_check', shop: 'S0001', answers: {} }]).catch((e: unknown) => e);
    expect(isQuotaError(err)).toBe(true);
    expect(written).toHaveLength(0);
    expect(noted).toEqual([]);
  });
});

describe('photoUrl', () => {
  it('fetches a photo once however often a screen asks for it while it comes', async () => {
    const { photoUrl } = await import('../src/events');
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      fetched.push(url);
      await new Promise((ok) => setTimeout(ok, 20));
      return new Response(new Blob([new Uint8Array([0xff, 0xd8])], { type: 'image/jpeg' }));
    });
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:photo' }));
    const id = 'S0001:photo:01JDX0000000000000000000AB';
    const urls = await Promise.all([photoUrl(id), photoUrl(id), photoUrl(id)]);
    expect(urls).toEqual(['blob:photo', 'blob:photo', 'blob:photo']);
    expect(fetched).toHaveLength(1);
    expect(await photoUrl(id)).toBe('blob:photo'); // and kept
    expect(fetched).toHaveLength(1);
    vi.unstubAllGlobals();
  });
});
