// Creating events on the device: every document a phone writes goes through appendEvent or savePhoto,
// which fill the wire format's fields (id, schema, created_by, device, performed_at) the server checks.
import { draftPhotosDb, localDb, noteWritten, photoDbs, type LocalDb } from './db';
import { deviceId } from './device';
import { holdPhoto, photoIdsIn, releasePhotos } from './draft-photos';
import { fetchPhoto } from './photo-fetch';
import { fitWithin, MAX_SIDE, nextQuality, QUALITIES, shrinkFactor } from './photo-size';
import { currentSession } from './session';
import { newUlid, shanghaiIso } from './ulid';

export { newUlid } from './ulid';

export interface EventInput {
  _id?: string;
  type: string;
  shop: string;
  [field: string]: unknown;
}

/** A quota error from IndexedDB, so the UI can say the phone's storage is full. */
export function isQuotaError(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  return !!e && (e.name === 'QuotaExceededError' || /quota/i.test(e.message ?? ''));
}

function who(): string {
  const session = currentSession();
  if (!session) throw new Error('not signed in');
  return session.user.id;
}

/** Write an immutable event to the local database (it syncs from there); returns its id. */
export async function appendEvent<T extends EventInput>(doc: T): Promise<string> {
  const [id] = await appendEvents([doc]);
  if (id === undefined) throw new Error('write failed');
  return id;
}

/**
 * Write the events of one submission (a check of several checklist modules is one event per module) in one write,
 * at one moment: the server counts a submission's deductions together by that moment, and a phone that fails
 * half-way (its storage full) must not keep half of them and write them again when the owner submits once more.
 */
export async function appendEvents<T extends EventInput>(docs: readonly T[]): Promise<string[]> {
  const now = Date.now();
  const author = who();
  const device = deviceId();
  const events = docs.map((doc) => ({
    ...doc,
    _id: doc._id ?? `${doc.shop}:${doc.type}:${newUlid(now)}`,
    schema: 1,
    created_by: author,
    device,
    performed_at: typeof doc.performed_at === 'string' ? doc.performed_at : shanghaiIso(now),
  }));
  // The photos the submission refers to go up with it; until now they were its draft's, on this phone alone.
  await releasePhotos(photoIdsIn(docs));
  const answers = await localDb().bulkDocs(events);
  const failed = answers.find((a) => 'error' in a && a.error);
  if (failed) {
    // PouchDB writes a batch in one IndexedDB transaction: a failure (the storage full) leaves none of it.
    const err = failed as { name?: string; message?: string; reason?: string };
    throw Object.assign(new Error(err.message ?? err.reason ?? 'write failed'), { name: err.name ?? 'Error' });
  }
  noteWritten(events.map((e) => e._id));
  return events.map((e) => e._id);
}

async function decode(file: Blob): Promise<ImageBitmap> {
  // The EXIF orientation is applied while decoding, so a portrait photo stays portrait.
  return createImageBitmap(file, { imageOrientation: 'from-image' });
}

async function encode(bitmap: ImageBitmap, width: number, height: number, quality: number): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d canvas');
  ctx.fillStyle = '#fff'; // a transparent PNG must not turn black in JPEG
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('JPEG encoding failed'))), 'image/jpeg', quality),
  );
}

/** Resize to ≤1600 px on the longest side and step the JPEG quality down until it is ≤ ~300 KB. */
export async function resizePhoto(file: Blob): Promise<Blob> {
  const bitmap = await decode(file);
  try {
    let { width, height } = fitWithin(bitmap.width, bitmap.height, MAX_SIDE);
    let quality: number = QUALITIES[0];
    for (let attempt = 0; attempt < 12; attempt++) {
      const blob = await encode(bitmap, width, height, quality);
      const next = nextQuality(quality, blob.size);
      if (next !== null) {
        quality = next;
        continue;
      }
      if (blob.size <= 300 * 1024 || attempt === 11) return blob;
      const f = shrinkFactor(blob.size);
      width = Math.max(1, Math.round(width * f));
      height = Math.max(1, Math.round(height * f));
    }
    return encode(bitmap, width, height, quality);
  } finally {
    bitmap.close();
  }
}

function position(): Promise<{ lat: number; lon: number; accuracy: number } | null> {
  if (!('geolocation' in navigator)) return Promise.resolve(null);
  return new Promise((resolve) =>
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: Math.min(p.coords.accuracy, 100_000) }),
      () => resolve(null),
      { timeout: 5000, maximumAge: 60_000 },
    ),
  );
}

/**
 * Resize a camera picture and keep it as `{shop}:photo:{ulid}` with the form's draft (../draft-photos: it goes up,
 * after the text, once the form is sent); returns the id the form refers to. With `gps` (the user's consent) the
 * position is added.
 */
export async function savePhoto(shop: string, file: Blob, opts: { gps?: boolean } = {}): Promise<string> {
  const now = Date.now();
  const jpeg = await resizePhoto(file);
  const gps = opts.gps ? await position() : null;
  const id = `${shop}:photo:${newUlid(now)}`;
  const at = shanghaiIso(now);
  await holdPhoto({
    _id: id,
    type: 'photo',
    schema: 1,
    shop,
    created_by: who(),
    device: deviceId(),
    performed_at: at,
    taken_at: at,
    ...(gps ? { gps } : {}),
    _attachments: { 'photo.jpg': { content_type: 'image/jpeg', data: jpeg } },
  });
  return id;
}

const urls = new Map<string, string>();

/** An object URL for a photo: from this device if it is here, else from the server with the token (./photo-fetch);
 *  null when the server does not give it in time, or gives no picture. */
export function photoUrl(id: string): Promise<string | null> {
  const known = urls.get(id);
  if (known) return Promise.resolve(known);
  // A screen drawn again while the photo is on its way (the e-file, on every change of the local database) waits
  // for the same fetch instead of starting another.
  let loading = fetching.get(id);
  if (!loading) {
    loading = loadPhoto(id).finally(() => fetching.delete(id));
    fetching.set(id, loading);
  }
  return loading;
}

const fetching = new Map<string, Promise<string | null>>();

/** Forget the object URL of `id` (its picture did not decode, ./thumb-image): asked again, it is read or fetched
 *  anew. */
export function forgetPhotoUrl(id: string): void {
  const url = urls.get(id);
  if (url === undefined) return;
  urls.delete(id);
  URL.revokeObjectURL(url);
}

/** The photos the server answered 404 for when last asked: the phone that took one has not uploaded it yet. */
const notOnServer = new Set<string>();

/** Whether the server said it does not have the photo (404) the last time it was asked, not another failure. */
export function notUploaded(id: string): boolean {
  return notOnServer.has(id);
}

async function loadPhoto(id: string): Promise<string | null> {
  let blob: Blob | null = null;
  const here = (): LocalDb[] => {
    try {
      return [draftPhotosDb(), ...photoDbs(), localDb()];
    } catch {
      return []; // no IndexedDB at all
    }
  };
  for (const db of here()) {
    try {
      blob = (await db.getAttachment(id, 'photo.jpg')) as Blob;
      break;
    } catch {
      // not in this database
    }
  }
  if (!blob) {
    notOnServer.delete(id);
    try {
      const answer = await fetchPhoto(id, currentSession()?.token ?? null);
      if ('status' in answer) {
        if (answer.status === 404) notOnServer.add(id);
        return null;
      }
      blob = answer.blob;
    } catch {
      return null; // offline and not on this device, or the signal too poor to bring it in time
    }
  }
  const url = URL.createObjectURL(blob);
  urls.set(id, url);
  return url;
}
