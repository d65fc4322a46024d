// @vitest-environment happy-dom
// Photos of forms not sent: which ids a submission refers to, and which held photos no draft wants any more.
import { beforeEach, describe, expect, it, vi } from 'vitest';

// The held photos' database, as far as the removals use it: ids and revisions.
const held = new Map<string, string>();
const fakeDb = {
  allDocs: async () => ({ rows: [...held].map(([id, rev]) => ({ id, value: { rev } })) }),
  bulkDocs: async (docs: { _id: string; _deleted?: boolean }[]) => docs.forEach((d) => d._deleted && held.delete(d._id)),
};
vi.mock('../src/db', () => ({ draftPhotosDb: () => fakeDb, putPhoto: async () => undefined }));
const { ORPHAN_GRACE_MS, orphans, photoIdsIn, removeFormPhoto } = await import('../src/draft-photos');
const { removableThumb } = await import('../src/photo-thumb');
const { clearAllDrafts, draftsMention, saveDraft } = await import('../src/drafts');

const A = 'S0001:photo:01JDX0000000000000000000AB';
const B = 'S0002:photo:01JDX0000000000000000000AC';

beforeEach(() => {
  localStorage.clear();
  held.clear();
});

describe('the photos a submission refers to', () => {
  it('are found wherever the form put them, and nothing else is taken for one', () => {
    const patrol = {
      answers: { gas_safe: { value: true, photos: [A] } },
      findings: [{ item: 'open_flame', photos: [B], note: `see ${A}` }],
      shop: 'S0001',
      hazard: 'S0001:hazard:01JDX0000000000000000000AE',
    };
    expect([...photoIdsIn([patrol])].sort()).toEqual([A, B]);
  });
});

describe('held photos no draft wants', () => {
  it('go once no draft mentions them and the grace has passed', () => {
    saveDraft('check:S0001', { answers: {}, photos: { gas_safe: [A] } });
    expect(draftsMention(A)).toBe(true);
    expect(draftsMention(B)).toBe(false);
    const now = Date.now();
    const held = [
      { id: A, taken: now - 2 * ORPHAN_GRACE_MS }, // in a draft: kept however old
      { id: B, taken: now - 2 * ORPHAN_GRACE_MS }, // its form given up, or its finding removed: goes
    ];
    expect(orphans(held, draftsMention, now)).toEqual([B]);
    // Just taken, before the draft is saved a moment later: kept.
    expect(orphans([{ id: B, taken: now - 1000 }], draftsMention, now)).toEqual([]);
    // A discarded draft's photos go at once.
    expect(orphans([{ id: B, taken: now - 1000 }], draftsMention, now, 0)).toEqual([B]);
  });

  it('all go with the drafts when the phone forgets its user', () => {
    saveDraft('check:S0001', { answers: {}, photos: { gas_safe: [A] } });
    localStorage.setItem('mashang.device', 'd1');
    clearAllDrafts();
    expect(draftsMention(A)).toBe(false);
    expect(localStorage.getItem('mashang.device')).toBe('d1');
  });
});

describe('a photo the user removes from a form', () => {
  it('leaves the phone once the draft of its form is saved without it, and only that one', async () => {
    held.set(A, '1-a').set(B, '1-b');
    let photos = [A, B];
    const save = (): void => saveDraft('check:S0001', { answers: {}, photos: { gas_safe: photos } });
    save();
    photos = photos.filter((p) => p !== A);
    expect(await removeFormPhoto(A, save)).toBe(1);
    expect([...held.keys()]).toEqual([B]);
  });

  it('stays while a draft still names it (the same form open in another tab)', async () => {
    held.set(A, '1-a');
    saveDraft('check:S0001', { answers: {}, photos: { gas_safe: [A] } });
    expect(await removeFormPhoto(A)).toBe(0);
    expect([...held.keys()]).toEqual([A]);
  });

  it('is taken out of the form only when the user confirms', () => {
    const removed: string[] = [];
    const box = document.body.appendChild(document.createElement('div'));
    box.append(removableThumb(document.createElement('img'), A, { label: 'Remove', ask: 'Remove?' }, (id) => removed.push(id)));
    const button = box.querySelector<HTMLButtonElement>(`[data-remove-photo="${A}"]`)!;
    expect(button.getAttribute('aria-label')).toBe('Remove');
    const ask = vi.fn().mockReturnValueOnce(false).mockReturnValueOnce(true);
    vi.stubGlobal('confirm', ask);
    button.click();
    expect(box.querySelector('[data-photo-thumb]')).not.toBeNull();
    expect(removed).toEqual([]);
    button.click();
    expect(ask).toHaveBeenCalledWith('Remove?');
    expect(box.querySelector('[data-photo-thumb]')).toBeNull();
    expect(removed).toEqual([A]);
    button.click(); // a second tap, queued behind the question: the photo is gone already
    expect(ask).toHaveBeenCalledTimes(2);
    expect(removed).toEqual([A]);
    box.remove();
    vi.unstubAllGlobals();
  });
});
