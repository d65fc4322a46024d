// What a scanned QR code means (pure, tested in pwa/tests/grid-scan.test.ts): a shop poster carries
// `{base}/s/{code}`; the base may be any host the district printed, so only the path is read.

const SHOP_CODE = /^[A-Za-z0-9_-]{1,32}$/;

/** The shop code of a scanned poster URL (or of a typed code), else null. */
export function shopFromQr(text: string): string | null {
  const raw = text.trim();
  if (SHOP_CODE.test(raw)) return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const match = /\/s\/([^/]+)\/?$/.exec(url.pathname);
  if (!match?.[1]) return null;
  let code: string;
  try {
    code = decodeURIComponent(match[1]);
  } catch {
    return null;
  }
  return SHOP_CODE.test(code) ? code : null;
}

/** The worker's shops a typed text names when it is no code of theirs: by a part of the name (阿香), or the end of
 *  the code (0032 for S0032), ignoring case and blanks. */
export function matchShops<T extends { code: string; name: string }>(shops: readonly T[], text: string): T[] {
  const q = text.replace(/\s+/g, '').toLowerCase();
  if (!q) return [];
  return shops.filter((s) => s.name.replace(/\s+/g, '').toLowerCase().includes(q) || s.code.toLowerCase().endsWith(q));
}
