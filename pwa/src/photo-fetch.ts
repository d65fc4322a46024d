// The one fetch of a photo from the server, with a bounded wait: for a thumbnail (../events `photoUrl`), for the
// photos kept for an offline day (./photo-cache `keepPhotos`), and for the office's photos (./office/photo). On a very
// poor signal (a basement) the browser gives a request up only after minutes, all that time an empty thumbnail frame
// and, for the photos kept, a round that never ends; and a 200 may bring something that is no photo (a Wi-Fi login
// page, a proxy's error page).

/** How long a photo from the server may go without a byte coming (its answer, then each piece of its body) before it
 *  counts as not loaded: its thumbnail then says 加载失败，点按重试 (./thumb-image). Counted from the last byte, not
 *  from the start: a photo of up to ~300 KB on a slow but working signal (EDGE) takes longer than this, and is not cut
 *  off to be started again, in vain, on the next try. */
export const PHOTO_TIMEOUT_MS = 20_000;
let photoTimeout = PHOTO_TIMEOUT_MS;

/** Another wait than PHOTO_TIMEOUT_MS for the photos asked from now on (tests); none given: back to it. */
export function setPhotoTimeout(ms: number = PHOTO_TIMEOUT_MS): void {
  photoTimeout = ms;
}

/** The server's path of a photo (its CouchDB attachment, through the gateway). */
export function photoPath(id: string): string {
  return `/sync/${encodeURIComponent(id)}/photo.jpg`;
}

/** What the server answered for a photo: its picture, or the status of an answer that is none. */
export type PhotoAnswer = { blob: Blob } | { status: number };

/**
 * The photo `id` from the server: its picture, or the status of an answer that is none: 404 (the server does not
 * have it yet), another error, or a 200 whose body is not a picture (anything but `image/*`: the server always says
 * which picture it sends), never to be kept or shown as one. Throws when the request fails (offline, the signal
 * dropped) or goes PHOTO_TIMEOUT_MS without a byte: then aborted, so it does not hold the connection the sync needs.
 */
export function fetchPhoto(id: string, token: string | null): Promise<PhotoAnswer> {
  return fetchImage(photoPath(id), token);
}

/** The picture at `path` with `token`, as `fetchPhoto` fetches a photo: the office's photos come the same way through
 *  its own endpoint (./office/photo), with the office's token. */
export async function fetchImage(path: string, token: string | null): Promise<PhotoAnswer> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wait = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new DOMException('The photo stalled', 'TimeoutError')), photoTimeout);
  };
  // Given up at the wait's end even where the request does not heed its signal.
  const given = new Promise<never>((_, reject) =>
    abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error), { once: true }),
  );
  given.catch(() => undefined);
  wait();
  try {
    const res = await Promise.race([
      fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: abort.signal }),
      given,
    ]);
    const type = res.headers.get('content-type')?.trim() ?? '';
    if (!res.ok || !/^image\//i.test(type)) {
      abort.abort(); // its body is not wanted: the connection is let go
      return { status: res.status };
    }
    const reader = res.body?.getReader();
    if (!reader) return { blob: await Promise.race([res.blob(), given]) };
    const parts: Uint8Array[] = [];
    for (;;) {
      wait(); // a body that stops coming is aborted too, not only an answer that never comes
      const { done, value } = await Promise.race([reader.read(), given]);
      if (done) break;
      parts.push(value);
    }
    return { blob: new Blob(parts as BlobPart[], { type }) };
  } finally {
    clearTimeout(timer);
  }
}
