// @vitest-environment happy-dom
// The grid worker's list shown while something changes that is not in the phone's database: a refusal of the patrol
// just submitted (kept in the phone's storage), and the turn of the day (a new month's patrols are due). Neither wrote
// to the database, and the list redrew only on a write of it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Doc } from '../src/grid/docs';
import { FakeLocalDb, shop } from './grid-fixtures';

type Status = { pulling: boolean; refused: number };
const phone = vi.hoisted(() => ({
  db: null as unknown,
  refused: new Set<string>(),
  status: { pulling: false, refused: 0 } as { pulling: boolean; refused: number },
  listeners: new Set<(status: { pulling: boolean; refused: number }) => void>(),
  redraw: null as null | (() => void),
}));

vi.mock('../src/db', () => ({
  localDb: () => phone.db,
  refusedIds: () => new Set(phone.refused),
  shopsWaiting: () => new Set<string>(),
  // The screen's redraw, which db.ts calls on a change of the database or of the header's pending and refused counts
  // (local-changes.test.ts): here the test calls it where the real one would.
  whileShown: (_node: HTMLElement, onChange: () => void) => {
    phone.redraw = onChange;
  },
}));
vi.mock('../src/sync-status', () => ({
  getSyncStatus: () => phone.status,
  onSyncStatus: (listener: (status: Status) => void) => {
    phone.listeners.add(listener);
    listener(phone.status);
    return () => phone.listeners.delete(listener);
  },
}));
vi.mock('../src/session', () => ({
  currentSession: () => ({ token: 't', user: { id: 'grid:zhou01', role: 'grid' } }),
  apiFetch: async () => new Response(JSON.stringify({ rows: [] })),
  signOut: async () => undefined,
}));
vi.mock('../src/photo-cache', () => ({ keepPhotos: async () => undefined, thumbUrl: async () => null }));

const PATROL = 'S0001:patrol:01M8PK0000000000000000000A';

function patrol(at: string, code = 'S0001'): Doc {
  return {
    _id: code === 'S0001' ? PATROL : `${code}:patrol:01M8PK0000000000000000000B`,
    type: 'patrol',
    shop: code,
    template: 'district:template:fire-gas',
    template_version: 1,
    performed_at: at,
    answers: {},
    findings: [],
  } as unknown as Doc;
}

function setStatus(status: Status): void {
  phone.status = status;
  for (const listener of [...phone.listeners]) listener(status);
}

async function openList(): Promise<HTMLElement> {
  const { listView } = await import('../src/grid/list');
  const view = listView('');
  document.body.replaceChildren(view.node);
  await vi.waitFor(() => expect(view.node.querySelector('a.g-shop')).not.toBeNull());
  return view.node;
}

const due = (node: HTMLElement): string[] =>
  [...node.querySelectorAll<HTMLElement>('a.g-shop[data-shop="S0001"] [data-due]')].map((b) => b.dataset.due ?? '');

beforeEach(() => {
  vi.resetModules();
  localStorage.clear();
  const db = new FakeLocalDb();
  db.write(shop('S0001'));
  phone.db = db;
  phone.refused = new Set();
  phone.status = { pulling: false, refused: 0 };
  phone.listeners.clear();
  phone.redraw = null;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the list shown', () => {
  it('follows a refusal of the patrol just submitted: a refused patrol is no visit', async () => {
    (phone.db as FakeLocalDb).write(patrol(new Date(Date.now() - 60_000).toISOString()));
    const node = await openList();
    expect(due(node)).toContain('patrolled');

    phone.refused.add(PATROL); // the server refused it: kept in the phone's storage, nothing written to its database
    setStatus({ pulling: false, refused: 1 });
    phone.redraw?.(); // the refused count changed
    await vi.waitFor(() => expect(due(node)).toContain('patrol'));
    expect(due(node)).not.toContain('patrolled');
  });

  it('follows the turn of the month when the worker looks at the phone again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-20T10:00:00+08:00'));
    (phone.db as FakeLocalDb).write(patrol('2026-11-20T09:00:00+08:00'));
    const node = await openList();
    expect(due(node)).toContain('patrolled');

    vi.setSystemTime(new Date('2026-12-01T08:00:00+08:00')); // the phone left on the list overnight
    document.dispatchEvent(new Event('visibilitychange'));
    await vi.waitFor(() => expect(due(node)).toContain('patrol'));
    expect(due(node)).not.toContain('patrolled');
  });

  it('marks a shop that missed last month’s patrol 逾期未巡查 from the 1st, and puts it first', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-30T18:00:00+08:00'));
    const db = phone.db as FakeLocalDb;
    db.write(shop('S0002'), shop('S0003'));
    db.write(patrol('2026-11-30T16:00:00+08:00'), patrol('2026-10-01T10:00:00+08:00', 'S0003')); // S0002: never
    const node = await openList();
    const chips = (): [string, string, string][] =>
      [...node.querySelectorAll<HTMLElement>('a.g-shop')].map((a) => {
        const chip = a.querySelector<HTMLElement>('[data-due^="patrol"]');
        return [a.dataset.shop ?? '', chip?.hasAttribute('data-overdue') ? 'overdue' : chip?.dataset.due ?? '', chip?.textContent ?? ''];
      });
    // 30 November: the October patrol counts as last month's.
    expect(chips()).toEqual([
      ['S0002', 'overdue', '逾期未巡查（从未巡查）'],
      ['S0003', 'patrol', '本月未巡查'],
      ['S0001', 'patrolled', '本月已巡查'],
    ]);

    vi.setSystemTime(new Date('2026-12-01T08:00:00+08:00')); // the phone left on the list overnight
    document.dispatchEvent(new Event('visibilitychange'));
    await vi.waitFor(() => expect(chips()[2]).toEqual(['S0001', 'patrol', '本月未巡查']));
    expect(chips()).toEqual([
      ['S0002', 'overdue', '逾期未巡查（从未巡查）'],
      ['S0003', 'overdue', '逾期未巡查（上次 10月1日）'],
      ['S0001', 'patrol', '本月未巡查'],
    ]);
    expect(node.querySelector('a.g-shop[data-shop="S0003"] [data-overdue]')?.classList.contains('bad')).toBe(true);
    expect(node.querySelector('[data-progress]')?.textContent).toBe('本月已巡查 0/3 家');
  });
});
