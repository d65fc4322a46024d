// The sync details behind the header's status: what waits (documents, photos), when the last upload and
// download happened, the photos the phone forgot (../photo-retention), documents the server refused with its
// reasons, and the export of what the server does not have (waiting, and refused).
import { h } from './dom';
import { t } from './i18n';
import { KEEP_PHOTO_DAYS } from './photo-retention';
import { refusedWhat, refusedWhy } from './refusals';
import type { SyncStatus } from './sync-status';
import { shanghaiIso } from './ulid';

/** A moment as the app writes dates everywhere: 2026-11-30 10:00, in Shanghai (the browser's locale wrote
 *  2026/11/30 10:00:36 here alone). */
export function shownAt(iso: string | null): string {
  if (!iso) return t('sync.never');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : shanghaiIso(ms).slice(0, 16).replace('T', ' ');
}

/** Fill the panel (a <dialog>) from the current status and the database's bookkeeping. */
export async function fillSyncPanel(panel: HTMLElement, status: SyncStatus): Promise<void> {
  const db = await import('./db');
  const times = db.syncTimes();
  const refused = db.refusedDocs();
  const forgotten = db.photosForgotten();
  const exportButton = h('button', { type: 'button', 'data-action': 'export' }, t('sync.export'));
  exportButton.addEventListener('click', () => {
    void db.exportPending().then((blob) => {
      const a = h('a', { href: URL.createObjectURL(blob), download: `mashang-pending-${Date.now()}.json` });
      document.body.append(a);
      a.click();
      a.remove();
    });
  });
  const dismiss = h('button', { type: 'button', 'data-action': 'dismiss-refused' }, t('sync.dismiss'));
  dismiss.addEventListener('click', () => {
    db.dismissRefused();
    void fillSyncPanel(panel, { ...status, refused: 0 });
  });
  const close = h('button', { type: 'button', class: 'primary' }, t('sync.close'));
  close.addEventListener('click', () => (panel as HTMLDialogElement).close?.());
  panel.replaceChildren(
    h('h2', { id: 'sync-panel-title' }, t('sync.details')),
    status.problem ? h('p', { class: 'error', 'data-sync-problem': '' }, t('sync.problem', { why: status.problem })) : '',
    h(
      'ul',
      { class: 'plain' },
      h('li', { 'data-pending-docs': String(status.pendingDocs) }, t('sync.waitingDocs', { n: status.pendingDocs })),
      h('li', { 'data-pending-photos': String(status.pendingPhotos) }, t('sync.waitingPhotos', { n: status.pendingPhotos })),
      h('li', {}, t('sync.lastPush', { t: shownAt(times.last_push) })),
      h('li', {}, t('sync.lastPull', { t: shownAt(times.last_pull) })),
      forgotten
        ? h(
            'li',
            { 'data-photos-forgotten': String(forgotten.count) },
            t('sync.photosForgotten', { n: forgotten.count, d: KEEP_PHOTO_DAYS, t: shownAt(forgotten.at) }),
          )
        : '',
    ),
    refused.length
      ? h(
          'section',
          { class: 'refused', 'data-refused': String(refused.length) },
          h('h3', {}, t('sync.refused', { n: refused.length })),
          h(
            'ul',
            {},
            ...refused.map((r) =>
              h(
                'li',
                { 'data-refused-id': r.id },
                h('strong', {}, refusedWhat(r.id)),
                h('p', {}, refusedWhy(r.reason)),
                // The record and the server's words, for whoever sorts it out with the safety office.
                h('small', { class: 'muted' }, h('code', {}, r.id), ' ', r.reason),
              ),
            ),
          ),
          h('p', { class: 'muted' }, t('sync.refusedKept')),
          dismiss,
        )
      : '',
    h('nav', { class: 'actions small' }, exportButton, close),
  );
}
