// This browser's stable id (`device` in the wire format) and small localStorage helpers that never throw.

const DEVICE_KEY = 'mashang.device';

export function stored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** A JSON value kept under `key`, or `fallback` when there is none or it does not parse. */
export function storedJson<T>(key: string, fallback: T): T {
  try {
    const text = stored(key);
    return text === null ? fallback : (JSON.parse(text) as T);
  } catch {
    return fallback;
  }
}

export function store(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage unavailable or full: the value lives for this page only
  }
}

let device: string | null = null;

/** A stable id for this browser, made on first use. */
export function deviceId(): string {
  device ??= stored(DEVICE_KEY);
  if (device === null) {
    const bytes = crypto.getRandomValues(new Uint8Array(6));
    device = 'd-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    store(DEVICE_KEY, device);
  }
  return device;
}
