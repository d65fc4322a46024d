// The maths of resizing a photo on the phone, apart from the canvas so it can be tested.

export const MAX_SIDE = 1600;
export const TARGET_MAX_BYTES = 300 * 1024;
export const TARGET_MIN_BYTES = 150 * 1024;
export const QUALITIES = [0.85, 0.75, 0.65, 0.55, 0.45, 0.35] as const;

/** The size that fits within `max` pixels on the longest side, keeping the aspect; never enlarges. */
export function fitWithin(width: number, height: number, max: number = MAX_SIDE): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (longest <= max || longest === 0) return { width, height };
  const scale = max / longest;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The next JPEG quality to try after one that gave `bytes`, or null to keep it. */
export function nextQuality(quality: number, bytes: number): number | null {
  if (bytes <= TARGET_MAX_BYTES) return null;
  const next = QUALITIES.find((q) => q < quality - 1e-9);
  return next ?? null;
}

/** After the lowest quality is still too big: shrink the sides by this factor and try again. */
export function shrinkFactor(bytes: number): number {
  return Math.max(0.5, Math.min(0.9, Math.sqrt(TARGET_MAX_BYTES / bytes)));
}
