// The device's report to the office's sync monitor: pending documents and photos, last sync, app version,
// storage. Sent when online after a sync has caught up (at most once a minute) and every five minutes.
import { pendingCounts, refusedDocs, syncTimes } from './db';
import { deviceId } from './device';
import { apiFetch, currentSession } from './session';

export const APP_VERSION: string = __APP_VERSION__;
const EVERY_MS = 5 * 60_000;
const AT_MOST_MS = 60_000;

let timer: ReturnType<typeof setInterval> | null = null;
let lastSent = 0;
let lastFigures = '';
let sending = false;
let again = false; // asked while a report was on its way: the figures may have changed since it was built

export interface DeviceReport {
  device: string;
  app_version: string;
  pending_docs: number;
  pending_photos: number;
  last_push: string | null;
  last_pull: string | null;
  refused: number;
  storage?: { usage: number; quota: number };
}

export async function buildReport(): Promise<DeviceReport> {
  const { docs, photos } = await pendingCounts();
  const report: DeviceReport = {
    device: deviceId(),
    app_version: APP_VERSION,
    pending_docs: docs,
    pending_photos: photos,
    ...syncTimes(),
    refused: refusedDocs().length,
  };
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  if (estimate && typeof estimate.usage === 'number' && typeof estimate.quota === 'number') {
    report.storage = { usage: Math.round(estimate.usage), quota: Math.round(estimate.quota) };
  }
  return report;
}

/** Send a report now unless the same one went out less than a minute ago (or `force`). Asked while one is on its
 *  way, it sends another once that one is done: the photos' sync catching up while the text's report was in
 *  flight must not leave the office seeing a photo waiting until the next five-minute tick. Never throws. */
export async function reportNow(force = false): Promise<void> {
  if (sending) {
    again = true;
    return;
  }
  if (!currentSession() || !navigator.onLine) return;
  sending = true;
  try {
    const report = await buildReport();
    // The same figures again within a minute are not worth a request; changed figures always are.
    const figures = JSON.stringify({ ...report, storage: undefined });
    if (!force && figures === lastFigures && Date.now() - lastSent < AT_MOST_MS) return;
    await apiFetch('/api/devices/report', { method: 'POST', json: report });
    lastSent = Date.now();
    lastFigures = figures;
  } catch {
    // offline or refused: the next sync or tick tries again
  } finally {
    sending = false;
    if (again) {
      again = false;
      await reportNow();
    }
  }
}

export function startReporting(): void {
  timer ??= setInterval(() => void reportNow(), EVERY_MS);
}

export function stopReporting(): void {
  if (timer !== null) clearInterval(timer);
  timer = null;
}
