// The `verification` event a grid worker writes about a hazard (pure, tested).
import type { HazardDoc, RectificationDoc } from './docs';

/** The verification event's fields (appendEvent adds id, schema, author, device and time). */
export function verificationFields(
  hazard: HazardDoc,
  rectification: RectificationDoc | null,
  passed: boolean,
  note: string,
  photos: string[],
): { type: 'verification'; shop: string; hazard: string; rectification: string | null; passed: boolean; note: string; photos: string[] } {
  return {
    type: 'verification',
    shop: hazard.shop,
    hazard: hazard._id,
    rectification: rectification?._id ?? null,
    passed,
    note: note.trim(),
    photos,
  };
}
