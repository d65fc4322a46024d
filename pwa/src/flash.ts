// What a form just saved, said once on the screen it goes back to (the owner's home after a self-check or a fix, the
// grid's shop list after a patrol, the shop's e-file after a verification), and kept true as the upload goes: the
// owner and the grid worker read 「…联网后自动上传」 online all along, and still after the header said 已同步. The words
// follow the header's sync state (./sync-status), and, for documents the server answers with one of its own (a
// patrol's alarm), that answer reaching the phone.
import { followChanges, localDb, uploadState } from './db';
import { getSyncStatus, onSyncStatus, type SyncStatus } from './sync-status';

/** Where a saved form's documents are: on the phone with no signal (or the sync failing), going up, gone up. */
export type UploadStage = 'offline' | 'uploading' | 'uploaded';

/** The documents a form wrote, and what the notice says of them at each stage (in the language shown then). */
export interface Saved {
  ids: readonly string[];
  text: (stage: UploadStage) => string;
  /** Documents the server answers with one of its own, which only it writes (the alarm a patrol raises): the ids that
   *  answer may have, and what the notice says once one is on the phone. Until then, uploaded, it says
   *  `text('uploaded')` (the alarm on its way, as the shop's e-file says too). */
  answer?: { ids: readonly string[]; text: () => string; none?: NoAnswer };
}

/** How the phone knows the server took the documents and answered none (a patrol's alarm the server did not raise:
 *  its rules changed, or it saw the findings otherwise): what else it derives from them is on the phone and says so
 *  (`taken`; not its coming before the answer, which a CouchDB cluster does not promise), asked again at each change
 *  of a document whose id starts with `under`; and what the notice says then. */
export interface NoAnswer {
  under: string;
  taken: () => Promise<boolean>;
  text: () => string;
}

/** The notice's `data-saved`: a stage of the upload, `answered` (`Saved.answer`), or `unanswered` (`NoAnswer`). */
export type NoticeStage = UploadStage | 'answered' | 'unanswered';

let pending: Saved | null = null;

/** Say `saved` once, on the next screen that shows the notice (`savedNotice`). */
export function flash(saved: Saved): void {
  pending = saved;
}

/** The stage of the documents `ids` by the header's sync state: uploaded once nothing waits (the header says 已同步),
 *  their photos included; null when the server refused one (the sync panel says why). */
async function uploadStage(status: SyncStatus, ids: readonly string[]): Promise<UploadStage | null> {
  if (status.state === 'offline') return 'offline';
  const { unsent, refused } = await uploadState(ids);
  if (ids.some((id) => refused.has(id))) return null;
  if (status.pending > 0 || ids.some((id) => unsent.has(id))) return status.state === 'error' ? 'offline' : 'uploading';
  return 'uploaded';
}

/** Whether one of the documents `ids` is on the phone (and not deleted). */
async function onPhone(ids: readonly string[]): Promise<boolean> {
  const res = await localDb().allDocs({ keys: [...ids] });
  return res.rows.some((row) => 'value' in row && row.value !== undefined && !row.value.deleted);
}

/** The stage the notice says: the upload's, `answered` once uploaded with the server's answer on the phone,
 *  `unanswered` once the server took them and answered none. Once said to be `up`, the documents stay uploaded (they
 *  are on the server): a later loss of signal, or another document waiting, does not take them back. */
async function noticeStage(status: SyncStatus, saved: Saved, up: boolean): Promise<NoticeStage | null> {
  const stage = up ? 'uploaded' : await uploadStage(status, saved.ids);
  if (stage !== 'uploaded' || !saved.answer) return stage;
  if (await onPhone(saved.answer.ids).catch(() => false)) return 'answered';
  return (await saved.answer.none?.taken().catch(() => false)) ? 'unanswered' : stage;
}

/** Keep the notice true as the upload goes, while it is on the page; removed when the server refused a document. The
 *  server's answer comes down by replication, which the header's state may not show: the local database's changes
 *  of its ids (and of those telling it answered none) are followed too. Once it is there, nothing changes any more;
 *  said to be none, the answer is still followed (should it come after all). */
function followUpload(notice: HTMLElement, saved: Saved): void {
  let asked = 0;
  let attached = false;
  let done = false;
  let up = false; // said to be uploaded (or unanswered): never said to wait again
  const answers = new Set(saved.answer?.ids ?? []);
  const stop = (): void => {
    done = true;
    off();
    offChanges();
  };
  const ask = (status: SyncStatus): void => {
    attached ||= notice.isConnected;
    if (done) return;
    if (attached && !notice.isConnected) {
      stop(); // the screen was left (never on the first, synchronous call: the notice is not attached and gone then)
      return;
    }
    const turn = ++asked;
    void noticeStage(status, saved, up).then((stage) => {
      if (turn !== asked || done) return; // a later state answered first
      if (stage === null) notice.remove();
      else {
        notice.textContent =
          stage === 'answered'
            ? (saved.answer?.text() ?? '')
            : stage === 'unanswered'
              ? (saved.answer?.none?.text() ?? '')
              : saved.text(stage);
        notice.dataset.saved = stage;
        up ||= stage === 'uploaded' || stage === 'unanswered';
        if (stage === 'answered') stop(); // an alarm stays
      }
    });
  };
  let offChanges = (): void => undefined;
  const off = onSyncStatus(ask);
  const under = saved.answer?.none?.under;
  if (answers.size) {
    offChanges = followChanges((change) => {
      if (answers.has(change.id) || (under !== undefined && change.id.startsWith(under))) ask(getSyncStatus());
    });
  }
}

/** The notice of what a form just saved (`make` draws it with its first words), following the upload from then on;
 *  null when nothing was. Taken once: the next screen says nothing. */
export function savedNotice(make: (text: string) => HTMLElement): HTMLElement | null {
  const saved = pending;
  pending = null;
  if (!saved) return null;
  const first: UploadStage = getSyncStatus().state === 'offline' ? 'offline' : 'uploading'; // until the ledger answers
  const notice = make(saved.text(first));
  notice.dataset.saved = first;
  followUpload(notice, saved);
  return notice;
}
