// The office's calls to /api/office/*: JSON through the session's bearer token (held in memory only), the
// answer's reason on failure, and downloads (posters, exports) fetched with the token and saved as files.
import { reasonIn } from '../i18n';
import { fetchImage } from '../photo-fetch';
import { ApiError, apiFetch, apiJson, currentSession } from '../session';

export { ApiError };

export function get<T>(path: string): Promise<T> {
  return apiJson<T>(path);
}

export function send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, json?: unknown): Promise<T> {
  return apiJson<T>(path, json === undefined ? { method } : { method, json });
}

/** A query string from the non-empty values. */
export function qs(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A failed call's body as the server wrote it (for validation errors that name fields). */
export interface Refusal {
  status: number;
  error: string;
  reason: string;
  body: Record<string, unknown>;
}

/** Send JSON and return either the answer or the full refusal (the rules editor shows errors by field). */
export async function attempt<T>(
  method: 'POST' | 'PUT',
  path: string,
  json: unknown,
): Promise<{ ok: true; value: T } | { ok: false; refusal: Refusal }> {
  const token = currentSession()?.token ?? '';
  const res = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(json),
  });
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  if (res.ok) return { ok: true, value: body as T };
  const text = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
  return { ok: false, refusal: { status: res.status, error: text('error'), reason: text('reason'), body } };
}

/** Upload a file as the request body (the registry import), answering the JSON reply. */
export async function upload<T>(path: string, file: Blob, contentType: string): Promise<T> {
  return apiJson<T>(path, { method: 'POST', body: file, headers: { 'Content-Type': contentType } });
}

/** Fetch a file with the token and hand it to the browser as a download named `filename`. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await apiFetch(path);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Fetch a file with the token and open it in a new tab (the printable report). An HTML answer keeps the
 * server's Content-Security-Policy as a meta tag, since a blob URL carries no headers. */
export async function openInTab(path: string): Promise<void> {
  const tab = window.open('', '_blank');
  const res = await apiFetch(path);
  let blob = await res.blob();
  const policy = res.headers.get('Content-Security-Policy');
  if (blob.type.startsWith('text/html')) blob = new Blob([withPolicy(await blob.text(), policy)], { type: blob.type });
  const url = URL.createObjectURL(blob);
  if (tab) tab.location.href = url;
  else window.location.href = url;
}

/** The HTML with a CSP meta tag first in its head (scripts are refused when the server gave no policy). */
export function withPolicy(html: string, policy: string | null): string {
  const value = (policy ?? "default-src 'none'; style-src 'unsafe-inline'; img-src data:").replace(/"/g, '&quot;');
  const meta = `<meta http-equiv="Content-Security-Policy" content="${value}">`;
  const head = /<head[^>]*>/i.exec(html);
  return head ? html.replace(head[0], head[0] + meta) : meta + html;
}

// Photos fetched already, by path: an e-file names one photo in several answers (the check, its hazard, the
// ledger), and fetched each time, a shop's file asked for 40 photos to show 7.
const IMAGES_KEPT = 300;
const images = new Map<string, Promise<string>>();

/** An object URL of an image the office may see (photos come through the office photo endpoint), fetched once, with
 *  the office's token, as the phones fetch theirs (../photo-fetch): given up after 20 s without a byte (it rejects
 *  with the timeout), and an answer that is no picture rejects as an ApiError of its status (404: not there yet). */
export function imageUrl(path: string): Promise<string> {
  const known = images.get(path);
  if (known) return known;
  const fetched = fetchImage(path, currentSession()?.token ?? null).then((answer) => {
    if ('status' in answer) throw new ApiError(answer.status, answer.status === 404 ? 'not_found' : 'not_a_picture', '');
    return URL.createObjectURL(answer.blob);
  });
  fetched.catch(() => images.delete(path)); // tried again next time
  images.set(path, fetched);
  if (images.size > IMAGES_KEPT) {
    const [oldest, url] = images.entries().next().value as [string, Promise<string>];
    images.delete(oldest);
    void url.then((u) => URL.revokeObjectURL(u), () => undefined);
  }
  return fetched;
}

export function reasonOf(err: unknown): string {
  if (err instanceof ApiError) return reasonIn(err.reason) || err.error || `HTTP ${err.status}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
