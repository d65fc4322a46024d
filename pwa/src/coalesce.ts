// Work that reads the latest state (a count, a panel) asked for faster than it runs.

/**
 * Wrap `task` so that asking runs it now, or, while a run is on its way, once more after that run: one more run
 * serves every ask made meanwhile, and it starts after all of them, so it reads what they changed. The promise an
 * ask returns settles when a run that started after the ask has finished. A failed run is swallowed: the next ask
 * runs again.
 */
export function coalesce(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const run = (): Promise<void> => {
    running = task()
      .catch(() => undefined)
      .finally(() => {
        running = null;
      });
    return running;
  };
  return () => {
    if (!running) return run();
    next ??= running.then(() => {
      next = null;
      return run();
    });
    return next;
  };
}
