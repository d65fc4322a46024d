// The shapes of the documents the grid screens read from the local database (wire format v1).
// Only the fields these screens use; the server's pydantic models (server/models/) are the reference.

import type { Contact } from '../contact';
import type { AnswerValue, Severity, TemplateItem } from '../items';

export type { AnswerValue, Severity, TemplateItem };

export interface Doc {
  _id: string;
  _rev?: string;
  type: string;
  schema?: number;
}

export interface ShopDoc extends Doc {
  type: 'shop';
  code: string;
  name: string;
  address: string;
  category: string;
  community: string;
  grid: string;
  status: 'active' | 'closed';
  owner_activated: boolean;
  /** The day the office registered it (YYYY-MM-DD); absent for a shop registered before the day was noted. */
  opened?: string | null;
  /** Its responsible person (负责人) and phone, as the office registered them; absent or null: none. */
  contact?: Contact | null;
}

export interface Answer {
  value: AnswerValue;
  photos?: string[];
  note?: string;
}

export interface Finding {
  id: string;
  item: string;
  severity: Severity;
  note?: string;
  photos?: string[];
  deadline: string;
}

export interface EventDoc extends Doc {
  shop: string;
  performed_at: string;
  created_by: string;
  device: string;
}

export interface SelfCheckDoc extends EventDoc {
  type: 'self_check';
  template: string;
  template_version: number;
  answers: Record<string, Answer>;
}

export interface PatrolDoc extends EventDoc {
  type: 'patrol';
  template: string;
  template_version: number;
  answers: Record<string, Answer>;
  verified_self_checks?: string[];
  findings?: Finding[];
}

export interface RectificationDoc extends EventDoc {
  type: 'rectification';
  hazard: string;
  note?: string;
  photos?: string[];
}

export interface VerificationDoc extends EventDoc {
  type: 'verification';
  hazard: string;
  rectification?: string | null;
  passed: boolean;
  note?: string;
  photos?: string[];
}

export type HazardStatus = 'open' | 'rectified' | 'closed' | 'overdue';

export interface HazardDoc extends Doc {
  type: 'hazard';
  shop: string;
  status: HazardStatus;
  source: string;
  /** The alarm the source's submission raised (`{shop}:alarm:{ulid}`), or null: it raised none. What the phone
   *  concludes from when the hazard comes before the alarm (../due `raisedNone`, `pendingAlarms`); absent on a hazard the server
   *  projected before it said (an older release): taken as naming none, as it was before. */
  alarm?: string | null;
  item: string;
  finding?: string | null;
  severity: Severity;
  self_reported: boolean;
  found_at: string;
  deadline: string;
  cost: number;
  note?: string;
  photos?: string[];
  rectifications?: string[];
  /** Ids of later findings merged into this hazard: a fix or verdict naming one is this hazard's (`namesHazard`). */
  aliases?: string[];
  verification?: string | null;
  closed_at?: string | null;
  /** Set on the phone for a patrol finding the server has not projected yet (not uploaded, or just uploaded). */
  provisional?: boolean;
}

export type AlarmStatus = 'open' | 'acknowledged' | 'dispatched' | 'resolved';

export interface AlarmDoc extends Doc {
  type: 'alarm';
  shop: string;
  status: AlarmStatus;
  source: string;
  items: { item: string; severity: Severity; hazard: string; photos?: string[] }[];
  cost: number;
  created_at: string;
  department?: AlarmDepartment | null;
  /** Every step, from the server's `open` on: who moved it and when (the office's acknowledge, dispatch, resolve). */
  history?: { status: AlarmStatus; at: string; by?: string; department?: AlarmDepartment | null }[];
}

export type AlarmDepartment = 'fire' | 'gas' | 'market' | 'emergency';

export interface ScoreDoc extends Doc {
  type: 'score';
  shop: string;
  points: number;
  rank?: number | null;
  of?: number | null;
  list?: 'red' | 'black' | null;
  open_hazards: number;
}

export interface TemplateDoc extends Doc {
  type: 'template';
  version: number;
  title: { zh: string; en: string };
  categories: string[];
  items: TemplateItem[];
}

export interface RulesDoc extends Doc {
  type: 'rules';
  deadline_days: Record<Severity, number>;
  /** What the alarm rule reads (./rules); optional: SPEC's defaults stand in for a field the phone lacks. */
  hazard_cost?: Record<Severity, number>;
  false_self_report_cost?: number;
  alarm_threshold?: number;
  alarm_on_serious?: boolean;
  /** What the day's first patrol of a shop earns when it finds no new hazard (SPEC's +5 when absent). */
  patrol_clean_points?: number;
}

/** A published version of the rules as the phone holds it (the `district` partition replicates to every phone):
 *  the current `district:rules` or a frozen `district:rules:v{n}`. */
export type RulesVersion = RulesDoc & { version?: number; effective_from?: string };

/** A patrol finding's item when no checklist item covers the problem. */
export const OTHER_ITEM = 'other';

/** `S0001:photo:01J…` → `S0001`, `photo`, `01J…`. */
export function splitId(id: string): [string, string, string] {
  const [partition = '', type = '', ...rest] = id.split(':');
  return [partition, type, rest.join(':')];
}
