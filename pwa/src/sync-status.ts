// The sync state shown in the header. Pure state + listeners, so it can be tested without PouchDB.

export type SyncState = 'synced' | 'pending' | 'offline' | 'error';

export interface SyncStatus {
  state: SyncState;
  /** Local changes not yet confirmed by the server. */
  pending: number;
  /** Why the state is `error` (a replication error message or a refused document). */
  detail?: string;
}

export interface SyncFacts {
  online: boolean;
  pending: number;
  /** Set when the last replication attempt failed for a reason other than the network. */
  error?: string;
}

/** Derive what to show from what we know. Offline wins; then errors; then waiting documents. */
export function deriveStatus(facts: SyncFacts): SyncStatus {
  const pending = Math.max(0, facts.pending);
  if (!facts.online) return { state: 'offline', pending };
  if (facts.error !== undefined) return { state: 'error', pending, detail: facts.error };
  return { state: pending > 0 ? 'pending' : 'synced', pending };
}

type Listener = (status: SyncStatus) => void;

const listeners = new Set<Listener>();
let facts: SyncFacts = {
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  pending: 0,
};
let status: SyncStatus = deriveStatus(facts);

export function getSyncStatus(): SyncStatus {
  return status;
}

export function updateSyncFacts(change: Partial<SyncFacts>): void {
  facts = { ...facts, ...change };
  if ('error' in change && change.error === undefined) delete facts.error;
  const next = deriveStatus(facts);
  if (
    next.state === status.state &&
    next.pending === status.pending &&
    next.detail === status.detail
  ) {
    return;
  }
  status = next;
  for (const listener of listeners) listener(status);
}

export function onSyncStatus(listener: Listener): () => void {
  listeners.add(listener);
  listener(status);
  return () => listeners.delete(listener);
}

/** Follow the browser's online/offline events (replication failures also set offline). */
export function watchConnectivity(target: Window = window): void {
  target.addEventListener('online', () => updateSyncFacts({ online: true }));
  target.addEventListener('offline', () => updateSyncFacts({ online: false }));
  updateSyncFacts({ online: target.navigator.onLine });
}
