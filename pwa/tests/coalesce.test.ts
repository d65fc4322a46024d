// Work asked for while it runs runs once more after, with what changed meanwhile (the sync panel's count).
import { describe, expect, it } from 'vitest';
import { coalesce } from '../src/coalesce';

/** A task that records the state it read and waits until released. */
function gatedTask(read: () => number) {
  const seen: number[] = [];
  const gates: (() => void)[] = [];
  const task = coalesce(async () => {
    const value = read();
    await new Promise<void>((release) => gates.push(release));
    seen.push(value);
  });
  const releaseAll = async (): Promise<void> => {
    while (gates.length) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  return { task, seen, releaseAll };
}

describe('coalesce', () => {
  it('runs again after the current run when asked during it, reading the state as it is then', async () => {
    let state = 1;
    const { task, seen, releaseAll } = gatedTask(() => state);
    const first = task();
    state = 0; // the count changed while the first run (which read 1) was on its way
    const second = task();
    await releaseAll();
    await Promise.all([first, second]);
    expect(seen).toEqual([1, 0]);
  });

  it('serves many asks during one run with a single further run', async () => {
    let state = 0;
    const { task, seen, releaseAll } = gatedTask(() => state);
    const asks = [task()];
    for (state = 1; state <= 5; state++) asks.push(task());
    await releaseAll();
    await Promise.all(asks);
    expect(seen).toEqual([0, 6]);
  });

  it('settles an ask made during a run only after the run that follows it', async () => {
    let state = 1;
    const { task, seen, releaseAll } = gatedTask(() => state);
    void task();
    state = 2;
    let settled: number[] | null = null;
    const later = task().then(() => {
      settled = [...seen];
    });
    await releaseAll();
    await later;
    expect(settled).toEqual([1, 2]);
  });

  it('keeps working after a run fails', async () => {
    let calls = 0;
    const task = coalesce(async () => {
      calls += 1;
      if (calls === 1) throw new Error('the database was closed');
    });
    await task();
    await task();
    expect(calls).toBe(2);
  });
});
