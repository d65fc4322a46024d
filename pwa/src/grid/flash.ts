// A one-time message carried across a navigation (e.g. "patrol saved" shown on the shop list).
let pending: string | null = null;

export function flash(message: string): void {
  pending = message;
}

/** The message waiting to be shown, once. */
export function takeFlash(): string | null {
  const message = pending;
  pending = null;
  return message;
}
