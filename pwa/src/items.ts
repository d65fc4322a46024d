// A checklist item of a template document (`district:template:*`, server/models/templates.py) and what makes an
// answer to it a hazard: one definition for the owner's self-check form and the grid worker's patrol. No imports,
// so the grid's pure logic (and its tests) can use it without the database.

export type Severity = 'general' | 'major' | 'serious';

export interface TemplateItem {
  id: string;
  label_zh: string;
  label_en: string;
  answer: 'yes_no' | 'number';
  hazard_when: { equals: boolean } | { gt: number };
  severity: Severity;
  photo_required?: boolean;
  points?: number | null;
  escalate?: { when_hazard: string[]; severity: Severity } | null;
}

/** True when `value` is the hazard answer of `item` (no answer is no hazard). */
export function isHazard(item: TemplateItem, value: boolean | number | null | undefined): boolean {
  if (value === undefined || value === null) return false;
  const when = item.hazard_when;
  if ('equals' in when) return typeof value === 'boolean' && value === when.equals;
  return typeof value === 'number' && value > when.gt;
}

/** The answer that makes `item` a hazard, to name a hazard by it (the labels are questions: 灭火器是否在有效期内). */
export function hazardAnswer(item: TemplateItem): { equals: boolean } | { more: number } {
  const when = item.hazard_when;
  return 'equals' in when ? { equals: when.equals } : { more: when.gt };
}
