// A one-time message carried across a navigation ("patrol saved" on the grid's shop list, "self-check saved" on the
// owner's home).
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
