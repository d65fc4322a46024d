// One submission's events (a check of several checklist modules) are written at one moment, in one write.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const written: Record<string, unknown>[][] = [];
let failWith: { error: boolean; name: string; message: string } | null = null;
vi.mock('../src/db', () => ({
  localDb: () => ({
    bulkDocs: async (docs: Record<string, unknown>[]) => {
      if (failWith) return docs.map(() => failWith);
      written.push(docs);
      return docs.map((d) => ({ ok: true, id: d._id, rev: '1-a' }));
    },
  }),
  photoDbs: () => [],
  putPhoto: async () => undefined,
}));
vi.mock('../src/device', () => ({ deviceId: () => 'd-test' }));
vi.mock('../src/session', () => ({ currentSession: () => ({ user: { id: 'owner:S0001' }, token: 't' }) }));

describe('appendEvents', () => {
  beforeEach(() => {
    written.length = 0;
    failWith = null;
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
    expect(batch?.every((d) => d.created_by === 'owner:S0001' && d.device === 'd-test' && d.schema === 1)).toBe(true);
  });

  it('throws the storage error when the write fails, so the draft is kept and nothing is half written', async () => {
    const { appendEvents, isQuotaError } = await import('../src/events');
    failWith = { error: true, name: 'QuotaExceededError', message: 'The quota has been exceeded.' };
    const err = await appendEvents([{ type: 'self_check', shop: 'S0001', answers: {} }]).catch((e: unknown) => e);
    expect(isQuotaError(err)).toBe(true);
    expect(written).toHaveLength(0);
  });
});
