// @vitest-environment happy-dom
// Photos of forms not sent: which ids a submission refers to, and which held photos no draft wants any more.
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('../src/db', () => ({ draftPhotosDb: () => null, putPhoto: async () => undefined }));
const { ORPHAN_GRACE_MS, orphans, photoIdsIn } = await import('../src/draft-photos');
const { clearAllDrafts, draftsMention, saveDraft } = await import('../src/drafts');

const A = 'S0001:photo:01JDX0000000000000000000AB';
const B = 'S0002:photo:01JDX0000000000000000000AC';

beforeEach(() => localStorage.clear());

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
