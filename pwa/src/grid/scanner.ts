// `/grid/scan`: the in-app QR scanner. The camera through getUserMedia; decoding by the browser's
// BarcodeDetector where there is one, else by jsQR, which is imported only now (it never weighs on the first
// load). A shop poster opens that shop's e-file; a code can also be typed.
import { h } from '../dom';
import { codeCandidates, navigate } from '../router';
import type { View } from '../views';
import { loadShop, loadShops } from './data';
import { shopHref } from './efile';
import { gt } from './i18n';
import { matchShops, shopFromQr } from './scan-logic';
import { notice, type Tone } from './ui';

type Decode = (video: HTMLVideoElement) => Promise<string | null>;

interface Detector {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
type DetectorClass = {
  new (opts: { formats: string[] }): Detector;
  getSupportedFormats?: () => Promise<string[]>;
};

async function nativeDecoder(): Promise<Decode | null> {
  const Native = (globalThis as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  if (!Native) return null;
  try {
    const formats = (await Native.getSupportedFormats?.()) ?? ['qr_code'];
    if (!formats.includes('qr_code')) return null;
    const detector = new Native({ formats: ['qr_code'] });
    return async (video) => (await detector.detect(video))[0]?.rawValue ?? null;
  } catch {
    return null;
  }
}

async function jsqrDecoder(): Promise<Decode> {
  const { default: jsQR } = await import('jsqr');
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    if (!ctx || !video.videoWidth) return null;
    // Decode a downscaled frame: quicker on a cheap phone, and a poster fills the frame anyway.
    const scale = Math.min(1, 640 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const frame = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return jsQR(frame.data, frame.width, frame.height, { inversionAttempts: 'dontInvert' })?.data ?? null;
  };
}

/** Open the e-file of a scanned or typed shop, or say why not. */
export async function openShop(text: string, say: (message: string) => void): Promise<boolean> {
  const code = shopFromQr(text);
  if (!code) {
    say(gt('scan.notOurs', { text: text.slice(0, 80) }));
    return false;
  }
  if (await openCode(code)) return true;
  say(gt('scan.notMine', { code }));
  return false;
}

/** Open the e-file of the shop `code` names if this phone holds it: as given, then upper case (a code typed on a
 *  phone keyboard comes as s0001, router.ts `codeCandidates`). */
async function openCode(code: string): Promise<boolean> {
  for (const candidate of codeCandidates(code)) {
    if (await loadShop(candidate)) {
      navigate(shopHref(candidate));
      return true;
    }
  }
  return false;
}

/** Open the e-file of a typed shop code, or of the one shop whose name (or the end of whose code) it is; else say
 *  what to type. A typed text is never called a QR code. */
export async function openTyped(text: string, say: (message: string) => void): Promise<boolean> {
  const typed = text.trim();
  if (!typed) {
    say(gt('scan.typeSomething'));
    return false;
  }
  const code = shopFromQr(typed); // a code, or a poster's link pasted
  if (code && (await openCode(code))) return true;
  const found = matchShops(await loadShops(), typed);
  if (found.length === 1 && found[0]) {
    navigate(shopHref(found[0].code));
    return true;
  }
  if (found.length > 1) {
    const shown = found.slice(0, 5).map((s) => `${s.name}（${s.code}）`);
    say(gt('scan.several', { n: found.length, shops: shown.join('、') }));
    return false;
  }
  say(gt('scan.noneTyped', { text: typed.slice(0, 40) }));
  return false;
}

/** A notice line whose text and tone change; empty, it is hidden. */
function noticeLine(attrs: Record<string, string>, text = ''): [HTMLElement, (message: string, tone?: Tone) => void] {
  const line = notice(text, 'muted', attrs);
  const set = (message: string, tone: Tone = 'warn'): void => {
    line.textContent = message;
    line.className = `g-notice ${tone}`;
    line.hidden = !message;
  };
  line.hidden = !text;
  return [line, set];
}

export function scannerView(): View {
  const video = h('video', { class: 'g-video', playsinline: true, muted: true, autoplay: true });
  // Two lines: the camera's state, and the answer to the last scanned or typed code. The camera can fail or
  // start late (a slow permission prompt), and that must never hide why a typed code was refused.
  const [camera, sayCamera] = noticeLine({ role: 'note', 'aria-live': 'polite', 'data-camera': '' }, gt('scan.starting'));
  const [status, say] = noticeLine({ role: 'status' });
  const manual = h('input', {
    name: 'code',
    autocomplete: 'off',
    autocapitalize: 'characters',
    placeholder: 'S0001',
    'aria-label': gt('scan.manual'),
  });
  const manualForm = h(
    'form',
    { class: 'g-toolbar' },
    manual,
    h('button', { type: 'submit', class: 'button' }, gt('scan.open')),
  );
  manualForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void openTyped(manual.value, say);
  });
  // Without a camera the black frame only pushes the code field down the screen: it goes.
  const viewfinder = h('div', { class: 'g-viewfinder' }, video);
  const node = h(
    'section',
    { class: 'page grid grid-scan' },
    h('a', { class: 'g-back', href: '/grid' }, `‹ ${gt('shop.back')}`),
    h('h1', {}, gt('scan.title')),
    h('p', { class: 'lead' }, gt('scan.intro')),
    viewfinder,
    camera,
    status,
    h('label', { class: 'g-field' }, h('span', {}, gt('scan.manual')), manualForm),
  );

  let stream: MediaStream | null = null;
  const stop = (): void => {
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
  };

  void (async () => {
    if (!navigator.mediaDevices?.getUserMedia) {
      sayCamera(gt('scan.unsupported'));
      viewfinder.hidden = true;
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (err) {
      const name = (err as { name?: string })?.name;
      sayCamera(name === 'NotAllowedError' ? gt('scan.denied') : gt('scan.unsupported'));
      viewfinder.hidden = true;
      return;
    }
    if (!node.isConnected) {
      stop();
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => undefined);
    sayCamera('');
    const decode = (await nativeDecoder()) ?? (await jsqrDecoder());
    let last = '';
    const tick = async (): Promise<void> => {
      if (!node.isConnected || !stream) {
        stop();
        return;
      }
      const text = await decode(video).catch(() => null);
      if (text && text !== last) {
        last = text;
        if (await openShop(text, say)) {
          stop();
          return;
        }
      }
      setTimeout(() => void tick(), 200);
    };
    void tick();
  })();
  return { title: gt('scan.title'), node };
}
