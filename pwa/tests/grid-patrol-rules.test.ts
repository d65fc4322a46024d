// The deadlines a patrol proposes come from the rules in force on the patrol's day: the office may publish a
// version that applies only from a later day, and until then the phone proposes the older version's deadlines,
// as the server scores (server/validators/rules.py `RulesHistory.on`).
import { describe, expect, it, vi } from 'vitest';
import type { RulesDoc } from '../src/grid/docs';
import rulesJson from '../../server/models/data/rules.json?raw';

const V1 = JSON.parse(rulesJson) as RulesDoc & { version: number; effective_from: string }; // from 2026-01-01: 7/3/1 days
const V2 = { ...V1, _id: 'district:rules:v2', version: 2, effective_from: '2026-12-15', deadline_days: { general: 10, major: 5, serious: 2 } };
const V3 = { ...V1, _id: 'district:rules:v3', version: 3, effective_from: '2027-01-01', deadline_days: { general: 14, major: 7, serious: 3 } };
// What the phone holds: the frozen copies of every version (the `district` partition replicates to every phone),
// and the current document, version 3, published on 2026-12-01 to apply from 2027-01-01.
let docs: Record<string, unknown>[] = [];

vi.mock('../src/db', () => ({
  localDb: () => ({
    allDocs: async (opts: { startkey: string; endkey: string }) => ({
      rows: docs
        .filter((d) => String(d._id) >= opts.startkey && String(d._id) <= opts.endkey)
        .sort((a, b) => (String(a._id) < String(b._id) ? -1 : 1))
        .map((doc) => ({ id: doc._id, key: doc._id, doc })),
    }),
  }),
  photoDbs: () => [],
  putPhoto: async () => undefined,
}));

describe('the deadlines a patrol proposes', () => {
  it('are those of the rules version in force on the patrol’s day, not of a version for a later day', async () => {
    const { loadRulesVersions } = await import('../src/grid/data');
    const { defaultDeadline, rulesOn } = await import('../src/grid/patrol-logic');
    docs = [
      { ...V1, _id: 'district:rules:v1' },
      V2,
      V3,
      { ...V3, _id: 'district:rules' },
      { _id: 'district:template:fire-gas', type: 'template' }, // not rules
    ];
    const versions = await loadRulesVersions();
    expect(versions.map((r) => r._id).sort()).toEqual(['district:rules', 'district:rules:v1', 'district:rules:v2', 'district:rules:v3']);
    const deadline = (day: string): string => defaultDeadline(rulesOn(versions, day), 'general', day);
    expect(deadline('2026-12-01')).toBe('2026-12-08'); // version 1: 7 days
    expect(deadline('2026-12-15')).toBe('2026-12-25'); // version 2 from its day: 10 days
    expect(deadline('2027-01-01')).toBe('2027-01-15'); // the current version from its day: 14 days
    expect(deadline('2025-06-01')).toBe('2025-06-08'); // before the first version: the first applies
  });

  it('follow a version published later from its own day on, which replaces the earlier ones from then', async () => {
    const { loadRulesVersions } = await import('../src/grid/data');
    const { rulesOn } = await import('../src/grid/patrol-logic');
    // Version 3 moved the start back to 2026-12-10: version 2 (from 2026-12-15) is never in force.
    const v3 = { ...V3, effective_from: '2026-12-10' };
    docs = [{ ...V1, _id: 'district:rules:v1' }, V2, { ...v3, _id: 'district:rules:v3' }, { ...v3, _id: 'district:rules' }];
    const versions = await loadRulesVersions();
    expect(rulesOn(versions, '2026-12-09')?.deadline_days.general).toBe(7);
    expect(rulesOn(versions, '2026-12-20')?.deadline_days.general).toBe(14);
  });

  it('are the current document’s when the phone holds no other version, and SPEC’s before any rules', async () => {
    const { loadRulesVersions } = await import('../src/grid/data');
    const { defaultDeadline, rulesOn } = await import('../src/grid/patrol-logic');
    docs = [{ ...V3, _id: 'district:rules' }];
    expect(rulesOn(await loadRulesVersions(), '2026-12-01')?.deadline_days.general).toBe(14);
    docs = [];
    expect(defaultDeadline(rulesOn(await loadRulesVersions(), '2026-12-01'), 'major', '2026-12-01')).toBe('2026-12-04');
  });
});
