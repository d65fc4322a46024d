// A one-time message carried across a navigation ("patrol saved" on the grid's shop list; the owner's home says what
// a form saved as its upload goes, owner.ts `justSaved`).
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
