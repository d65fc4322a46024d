// The sync state shown in the header. Pure state + listeners, so it can be tested without PouchDB.
import { t } from './i18n';

export type SyncState = 'synced' | 'pulling' | 'pending' | 'offline' | 'error';

export interface SyncStatus {
  state: SyncState;
  /** Local documents and photos not yet acknowledged by the server. */
  pending: number;
  pendingDocs: number;
  pendingPhotos: number;
  /** Documents the server refused (shown with their reasons until dismissed). */
  refused: number;
  /** While `pulling`: how many changes the server says are left, when it says (else null). */
  toPull: number | null;
  /** Why the state is `error`. */
  detail?: string;
  /** Why replication failed, when it did (not a refusal: those are listed one by one). */
  problem?: string;
  /** While `offline`: the phone has a network, but the server did not answer (it is down, or out of reach). */
  unreachable?: boolean;
  /** The download has not caught up, whatever `state` says first (what waits to go up, or no signal). */
  pulling: boolean;
}

export interface SyncFacts {
  online: boolean;
  pendingDocs: number;
  pendingPhotos: number;
  refused: number;
  /** The download has not caught up with the server since sync started: what the phone shows is not complete
   *  yet (a grid worker's first sign-in takes a while on a poor signal). */
  pulling?: boolean;
  toPull?: number | null;
  /** Set when replication failed for a reason other than the network (e.g. the sign-in is no longer valid). */
  error?: string;
  /** The server gave no answer while the browser said it was online. */
  unreachable?: boolean;
}

/** Derive what to show from what we know. Offline wins; then errors and refusals; then waiting documents; then a
 *  download still catching up. `synced` means both ways: nothing waits here, and nothing more is coming. */
export function deriveStatus(facts: Partial<SyncFacts> & { online: boolean }): SyncStatus {
  const pendingDocs = Math.max(0, facts.pendingDocs ?? 0);
  const pendingPhotos = Math.max(0, facts.pendingPhotos ?? 0);
  const refused = Math.max(0, facts.refused ?? 0);
  const toPull = facts.pulling && typeof facts.toPull === 'number' ? Math.max(0, facts.toPull) : null;
  const base = { pending: pendingDocs + pendingPhotos, pendingDocs, pendingPhotos, refused, toPull, pulling: !!facts.pulling };
  if (!facts.online) return { state: 'offline', ...base, ...(facts.unreachable ? { unreachable: true } : {}) };
  if (facts.error !== undefined) return { state: 'error', ...base, detail: facts.error, problem: facts.error };
  if (refused > 0) return { state: 'error', ...base, detail: `${refused} refused` };
  if (base.pending > 0) return { state: 'pending', ...base };
  return { state: facts.pulling ? 'pulling' : 'synced', ...base };
}

type Listener = (status: SyncStatus) => void;

const listeners = new Set<Listener>();
let facts: SyncFacts = {
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  pendingDocs: 0,
  pendingPhotos: 0,
  refused: 0,
};
let status: SyncStatus = deriveStatus(facts);

export function getSyncStatus(): SyncStatus {
  return status;
}

function same(a: SyncStatus, b: SyncStatus): boolean {
  return (
    a.state === b.state &&
    a.pendingDocs === b.pendingDocs &&
    a.pendingPhotos === b.pendingPhotos &&
    a.refused === b.refused &&
    a.toPull === b.toPull &&
    a.pulling === b.pulling &&
    a.detail === b.detail &&
    a.problem === b.problem &&
    a.unreachable === b.unreachable
  );
}

export function updateSyncFacts(change: Partial<SyncFacts>): void {
  facts = { ...facts, ...change };
  if ('error' in change && change.error === undefined) delete facts.error;
  const next = deriveStatus(facts);
  if (same(next, status)) return;
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
  target.addEventListener('online', () => updateSyncFacts({ online: true, unreachable: false }));
  target.addEventListener('offline', () => updateSyncFacts({ online: false, unreachable: false }));
  updateSyncFacts({ online: target.navigator.onLine });
}

/** What PouchDB hands to a replication's error and paused events (the server's answer, when there was one). */
export interface ReplicationError {
  status?: number;
  name?: string;
  message?: string;
  reason?: string;
  id?: string;
}

/** Why a replication failed, in words for the panel: the server's reason, or ours where the server's would not
 *  help the person holding the phone (its storage full: nothing is lost, it all goes up later). */
export function describeSyncError(err: unknown): string {
  const e = (err ?? {}) as ReplicationError;
  if (e.status === 507) return t('sync.serverFull');
  return [e.id, e.reason ?? e.message ?? e.name].filter(Boolean).join(': ') || 'unknown error';
}
