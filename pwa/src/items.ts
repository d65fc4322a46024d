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
  /** The item may be answered 不适用 (`'na'`): a shop without an extinguisher, or without gas. Yes/no items only. */
  not_applicable?: boolean;
  points?: number | null;
  escalate?: { when_hazard: string[]; severity: Severity } | null;
}

/** The answer to an item that does not apply to the shop (server/models/events.py `NOT_APPLICABLE`): a string,
 *  since the patrol's draft keeps null for "not answered yet". Only an item with `not_applicable` takes it. */
export const NOT_APPLICABLE = 'na';

/** What an answer's `value` is: yes/no, a number, or 不适用. */
export type AnswerValue = boolean | number | typeof NOT_APPLICABLE;

/** Whether `item` may be answered 不适用 (a yes/no item whose template says so). */
export function allowsNotApplicable(item: TemplateItem): boolean {
  return item.not_applicable === true && item.answer === 'yes_no';
}

/** Whether an answer to `item` needs a photo: when the template asks for one, unless the answer is 不适用 (nothing
 *  to photograph; the server does not ask for one either). */
export function photoNeeded(item: TemplateItem, value: AnswerValue | null | undefined): boolean {
  return item.photo_required === true && value !== NOT_APPLICABLE;
}

/** True when `value` is the hazard answer of `item` (no answer is no hazard, nor is 不适用). */
export function isHazard(item: TemplateItem, value: AnswerValue | null | undefined): boolean {
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
