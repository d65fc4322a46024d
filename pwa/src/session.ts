// Who is signed in on this device, and fetch for the gateway's /api/ with that user's bearer token.
// Owner and grid-worker sessions persist (the app must start offline); an office session lives in memory only.
import { store, stored, storedJson } from './device';

export type Role = 'owner' | 'grid' | 'office';

export interface SessionUser {
  id: string;
  role: Role;
  name?: string;
  username?: string;
  shop?: string;
  /** An office account's sub-district (街道) when it is one sub-district's office; absent: the whole district. */
  subdistrict?: string | null;
}

export interface Session {
  token: string;
  user: SessionUser;
  /** The owner's shop code. */
  shop?: string;
}

const SESSION_KEY = 'mashang.session';
const SIGNED_OUT_KEY = 'mashang.signedOut'; // tokens signed out here that the server has not been told of yet
const MAX_SIGNED_OUT = 10;
const DEVICE_KEYS = 'mashang.deviceKeys';
const MAX_DEVICE_KEYS = 20;

function deviceKeys(): Record<string, string> {
  return storedJson<Record<string, string>>(DEVICE_KEYS, {});
}

/** The key the server gave this phone for `account` (`owner:{shop}`, `staff:{username}`) at an earlier sign-in:
 *  sent with the next ones, so that someone else's guessing does not lock this phone out (server/accounts.py). */
export function deviceKeyFor(account: string): string | null {
  return deviceKeys()[account] ?? null;
}

export function rememberDeviceKey(account: string, key: string): void {
  const keys = Object.entries(deviceKeys()).filter(([name]) => name !== account);
  store(DEVICE_KEYS, JSON.stringify(Object.fromEntries([...keys.slice(1 - MAX_DEVICE_KEYS), [account, key]])));
}
/** Renew when less than this share of the token's lifetime is left. */
const RENEW_WHEN_LEFT = 0.25;

/** An answer of /api/ that was not 2xx, with the server's reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(reason || error || `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();
let current: Session | null | undefined;

function isRole(value: unknown): value is Role {
  return value === 'owner' || value === 'grid' || value === 'office';
}

function parse(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    if (typeof s.token === 'string' && s.user && typeof s.user.id === 'string' && isRole(s.user.role)) return s;
  } catch {
    // a damaged entry is no session
  }
  return null;
}

/** The token's claims (`exp`, `iat` in seconds), or null when it is not a readable JWT. */
export function tokenClaims(token: string): { exp?: number; iat?: number } | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    return JSON.parse(json) as { exp?: number; iat?: number };
  } catch {
    return null;
  }
}

/** True when a token issued at `iat` and expiring at `exp` (seconds) should be renewed at `nowMs`. */
export function needsRenewal(claims: { exp?: number; iat?: number } | null, nowMs: number): boolean {
  if (!claims?.exp) return false;
  const now = nowMs / 1000;
  const life = claims.iat ? claims.exp - claims.iat : 86_400;
  return claims.exp - now < life * RENEW_WHEN_LEFT;
}

export function isExpired(token: string, nowMs = Date.now()): boolean {
  const exp = tokenClaims(token)?.exp;
  return exp !== undefined && exp * 1000 <= nowMs;
}

export function currentSession(): Session | null {
  if (current === undefined) current = parse(stored(SESSION_KEY));
  return current;
}

function setSession(session: Session | null): void {
  current = session;
  store(SESSION_KEY, session && session.user.role !== 'office' ? JSON.stringify(session) : null);
  for (const listener of listeners) listener(session);
}

/** Called with the new session (or null) after every sign-in, renewal and sign-out. */
export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Keep the answer of /api/auth/login|owner|activate as this device's session and start syncing. */
export function signIn(answer: {
  token: string;
  user: { id: string; role: string; name?: string; shop?: string; subdistrict?: string | null };
}): Session {
  if (!isRole(answer.user.role)) throw new ApiError(400, 'bad_request', `unknown role ${answer.user.role}`);
  const user: SessionUser = { ...answer.user, role: answer.user.role };
  const shop = user.role === 'owner' ? (user.shop ?? user.id.replace(/^owner:/, '')) : undefined;
  const session: Session = { token: answer.token, user, ...(shop ? { shop } : {}) };
  setSession(session);
  return session;
}

/**
 * Stop syncing and forget the session. Data not yet uploaded stays on the device (it goes up at the next
 * sign-in) unless `discardPending` is true; with nothing pending, the local databases are removed.
 */
export async function signOut(opts: { discardPending?: boolean } = {}): Promise<void> {
  const ending = currentSession();
  setSession(null);
  if (ending) {
    // The server stops taking the token too (a phone handed on); offline, it is told once the signal is back.
    const waiting = storedJson<string[]>(SIGNED_OUT_KEY, []).filter((token) => token !== ending.token);
    store(SIGNED_OUT_KEY, JSON.stringify([...waiting, ending.token].slice(-MAX_SIGNED_OUT)));
    void tellSignedOut();
  }
  const db = await import('./db');
  db.stopSync();
  const pending = await db.countPending().catch(() => 0);
  if (pending === 0 || opts.discardPending) await db.destroyLocal();
  await (await import('./photo-cache')).forgetPhotos();
}

/** Tell the server of the tokens signed out on this device that it has not heard of yet (each is kept until it
 *  answers: 200, or 401 for a token it takes no longer anyway); answers how many are still waiting. */
export async function tellSignedOut(send: typeof fetch = fetch): Promise<number> {
  for (const token of storedJson<string[]>(SIGNED_OUT_KEY, [])) {
    let told = false;
    try {
      const res = await send('/api/auth/sign-out', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
      told = res.ok || res.status === 401 || res.status === 403;
    } catch {
      // no signal: again when it is back
    }
    if (told) store(SIGNED_OUT_KEY, JSON.stringify(storedJson<string[]>(SIGNED_OUT_KEY, []).filter((t) => t !== token)));
  }
  return storedJson<string[]>(SIGNED_OUT_KEY, []).length;
}

/**
 * The server no longer accepts this session's token (revoked, expired): forget the session but keep every
 * local document, so what waits goes up after the next sign-in.
 */
export function dropSession(): void {
  if (currentSession()) setSession(null);
}

async function errorOf(res: Response): Promise<ApiError> {
  let error = `http_${res.status}`;
  let reason = res.statusText;
  try {
    const body = (await res.json()) as { error?: string; reason?: string };
    error = body.error ?? error;
    reason = body.reason ?? reason;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, error, reason);
}

let renewing: Promise<void> | null = null;

async function renewIfDue(): Promise<void> {
  const session = currentSession();
  if (!session || !needsRenewal(tokenClaims(session.token), Date.now()) || isExpired(session.token)) return;
  renewing ??= fetch('/api/auth/renew', { method: 'POST', headers: { Authorization: `Bearer ${session.token}` } })
    .then(async (res) => {
      if (!res.ok) return;
      const answer = (await res.json()) as { token: string };
      const now = currentSession();
      if (now && now.user.id === session.user.id) setSession({ ...now, token: answer.token });
    })
    .catch(() => undefined) // offline: try again next time
    .finally(() => {
      renewing = null;
    });
  await renewing;
}

/**
 * fetch() for the gateway's /api/ with the session's bearer token; a JSON body may be given as `json`.
 * Renews the token when it nears expiry. Throws ApiError (status, error, reason) on a non-2xx answer;
 * a network failure rejects with fetch's TypeError.
 */
export async function apiFetch(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  await renewIfDue();
  const session = currentSession();
  const headers = new Headers(init.headers);
  if (session) headers.set('Authorization', `Bearer ${session.token}`);
  const { json, ...rest } = init;
  let body = rest.body;
  if (json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(json);
  }
  const res = await fetch(path, { ...rest, headers, body });
  if (res.status === 401 && session?.user.role === 'office' && currentSession() === session) {
    // The office's token was revoked or has run out: its sign-in form again, rather than a screen whose every
    // button says so in the server's English. The office keeps nothing on the device, so nothing is lost.
    setSession(null);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** apiFetch and parse the JSON answer. */
export async function apiJson<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  return (await (await apiFetch(path, init)).json()) as T;
}
