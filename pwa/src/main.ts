// App shell: header (brand, sync status, language), router, service worker.
import './style.css';
import { registerSW } from 'virtual:pwa-register';
import { coalesce } from './coalesce';
import { getLang, setLang, t, type MessageKey } from './i18n';
import { refresh, startRouter, type Route } from './router';
import { getSyncStatus, onSyncStatus, updateSyncFacts, watchConnectivity, type SyncStatus } from './sync-status';
import { view, type OwnerMount, type ScoreLookup } from './views';
import { currentSession, onSession, tellSignedOut, type Session } from './session';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

const app = byId<HTMLElement>('app');
const syncEl = byId<HTMLElement>('sync-status');
const langButton = byId<HTMLButtonElement>('lang-toggle');
const updateButton = byId<HTMLButtonElement>('update');
const brand = byId<HTMLAnchorElement>('brand');
const syncPanel = byId<HTMLDialogElement>('sync-panel');

// The status is a button: it opens the details (waiting documents and photos, refusals, export). The panel is
// filled from the latest status; a change while it is being filled (a count taken just after a refusal, while the
// panel opens) fills it again, so it never stays behind the header.
const fillPanel = coalesce(async () => {
  const m = await import('./sync-panel');
  await m.fillSyncPanel(syncPanel, lastSync ?? getSyncStatus());
});
let panelOpening = false;
syncEl.addEventListener('click', () => {
  panelOpening = true;
  void fillPanel().then(() => {
    panelOpening = false;
    if (!syncPanel.open) syncPanel.showModal();
  });
});

// PouchDB is loaded on demand, so the public card paints before the database code arrives.
const lookupScore: ScoreLookup = async (code) => {
  if (!currentSession()) return null; // nothing synced on this device: keep PouchDB off the public card
  const { localDb } = await import('./db');
  try {
    const doc = await localDb().get<{ points: number; rank?: number | null; of?: number | null; list?: 'red' | 'black' | null; updated_at?: string }>(
      `${code}:score`,
    );
    return { points: doc.points, rank: doc.rank ?? null, of: doc.of ?? null, list: doc.list ?? null, updated_at: doc.updated_at ?? null };
  } catch {
    return null; // not on this device (yet)
  }
};

let routeToken = 0;

function show({ title, node }: { title: string; node: HTMLElement }): void {
  document.title = title;
  app.replaceChildren(node);
}

function renderRoute(route: Route): void {
  const token = ++routeToken;
  // The grid worker's and the office's screens are their own chunks, loaded when first opened
  // (precached by the service worker, so they open offline too).
  if (route.name === 'grid') {
    void import('./grid/main').then((m) => token === routeToken && show(m.gridView(route.rest)));
    return;
  }
  if (route.name === 'office') {
    void import('./office/main').then((m) => token === routeToken && show(m.officeView(route.rest)));
    return;
  }
  if (route.name === 'check' || route.name === 'rectify') {
    void import('./owner').then(
      (m) => token === routeToken && show(route.name === 'check' ? m.checkView(route.code) : m.rectifyView(route.code, route.hazard)),
    );
    return;
  }
  show(view(route, lookupScore, mountOwner));
}

const mountOwner: OwnerMount = (code, into, onScore) => {
  void import('./owner').then((m) => m.mountOwnerHome(code, into, onScore));
};

let lastSync: SyncStatus | null = null;
/** The token replication runs with (owner or grid worker), null when nothing replicates. */
let syncedToken: string | null = null;

function renderSync(status: SyncStatus): void {
  lastSync = status;
  const labels: Record<SyncStatus['state'], MessageKey> = {
    synced: 'sync.synced',
    pulling: status.toPull ? 'sync.pullingLeft' : 'sync.pulling',
    pending: 'sync.pending',
    offline: status.unreachable
      ? status.pending > 0 ? 'sync.unreachablePending' : 'sync.unreachable'
      : status.pending > 0 ? 'sync.offlinePending' : 'sync.offline',
    error: 'sync.error',
  };
  syncEl.dataset.syncState = status.state;
  syncEl.dataset.pending = String(status.pending);
  syncEl.dataset.pendingDocs = String(status.pendingDocs);
  syncEl.dataset.pendingPhotos = String(status.pendingPhotos);
  syncEl.dataset.refused = String(status.refused);
  syncEl.textContent = t(labels[status.state], { n: status.state === 'pulling' ? (status.toPull ?? 0) : status.pending });
  // Nothing replicates for the office or a signed-out visitor: 已同步 would say something untrue. Offline,
  // waiting or refused documents are still worth saying.
  syncEl.hidden = syncedToken === null && status.state === 'synced';
  if (syncPanel.open || panelOpening) void fillPanel();
  if (status.detail) syncEl.title = status.detail;
  else syncEl.removeAttribute('title');
}

function renderChrome(): void {
  const lang = getLang();
  document.documentElement.lang = lang;
  // The full name, and the short one a narrow phone shows in its place (style.css); only the shown one is read out.
  const full = document.createElement('span');
  full.className = 'brand-full';
  full.textContent = t('app.name');
  const short = document.createElement('span');
  short.className = 'brand-short';
  short.textContent = t('app.short');
  brand.replaceChildren(full, short);
  langButton.textContent = t('lang.switch');
  // Named by what it shows (a voice-control user says what they see, WCAG 2.5.3); what it does is its description.
  langButton.removeAttribute('aria-label');
  langButton.title = t('lang.switchLabel');
  langButton.lang = lang === 'zh-CN' ? 'en' : 'zh-CN';
  updateButton.textContent = t('update.prompt');
  if (lastSync) renderSync(lastSync);
}

langButton.addEventListener('click', () => {
  setLang(getLang() === 'zh-CN' ? 'en' : 'zh-CN');
  renderChrome();
  refresh();
});

renderChrome();
watchConnectivity();
// Sign-outs made here without signal: the server is told once there is some.
void tellSignedOut();
window.addEventListener('online', () => void tellSignedOut());
onSyncStatus(renderSync);
startRouter(renderRoute);

// Signed in on this device (owner or grid worker): replicate, now and after every sign-in or renewal.
// The office works through /api/ and does not replicate.
function followSession(session: Session | null): void {
  const token = session && session.user.role !== 'office' ? session.token : null;
  if (token === syncedToken) return;
  syncedToken = token;
  renderSync(lastSync ?? getSyncStatus());
  // Signed in, the download has not caught up until the replication says so: never 已同步 before it starts.
  updateSyncFacts({ pulling: token !== null, toPull: null });
  if (token) {
    void navigator.storage?.persist?.();
    const user = session?.user.id ?? '';
    void Promise.all([import('./db'), import('./report')]).then(async ([db, report]) => {
      const removed = await db.claimFor(user);
      if (syncedToken !== token) return; // signed out or in again meanwhile
      if (removed) refresh(); // the screen was reading the previous user's data
      db.startSync(location.origin, token, () => void report.reportNow(), user);
      report.startReporting();
      // Photos of forms given up (a verification keeps no draft) or of findings removed, kept a day meanwhile.
      void import('./draft-photos').then((m) => m.sweepDraftPhotos()).catch(() => undefined);
    });
  } else {
    void Promise.all([import('./db'), import('./report')]).then(([db, report]) => {
      report.stopReporting();
      db.stopSync();
      db.watchPending();
    });
  }
}
onSession((session) => {
  followSession(session);
  if (!session) refresh(); // signed out here or by the server: show the sign-in again
});
followSession(currentSession());

// Service worker: precached shell, offline deep links. A new version waits for a tap, so a
// form being filled in is never reloaded away.
const updateSW = registerSW({
  onNeedRefresh() {
    updateButton.hidden = false;
  },
});
updateButton.addEventListener('click', () => {
  updateButton.disabled = true;
  // Reload as soon as the new worker controls the page. (workbox-window reloads by itself only
  // when a worker already controlled the page at load, not on the first visit.)
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
  void updateSW(true);
});
