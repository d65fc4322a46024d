// A shop's responsible person (负责人) and phone as the registry keeps them (server/models/registry.py `Contact`),
// and the phone as a link that dials it: the office calls a black-listed shop in (约谈), the grid worker calls the
// owner from the street. Only the office's screens and the shop's grid worker have it (never the public card).
import { h } from './dom';

export interface Contact {
  name?: string | null;
  phone?: string | null;
}

/** The contact a document holds, or null for none (or for anything that is not one). */
export function contactOf(value: unknown): Contact | null {
  if (!value || typeof value !== 'object') return null;
  const { name, phone } = value as Record<string, unknown>;
  const known: Contact = {
    name: typeof name === 'string' && name.trim() ? name : null,
    phone: typeof phone === 'string' && phone.trim() ? phone : null,
  };
  return known.name || known.phone ? known : null;
}

/** The `tel:` address of a phone as registered ("+86 138-0013-8000" → "tel:+8613800138000"): its digits, and a
 *  leading + (a dialler takes nothing else). */
export function telHref(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return `tel:${phone.trim().startsWith('+') ? '+' : ''}${digits}`;
}

/** The phone as a link that dials it (as registered, spaces and all), or null when there is none. */
export function phoneLink(phone: string | null | undefined): HTMLAnchorElement | null {
  if (!phone) return null;
  return h('a', { href: telHref(phone), class: 'tel', 'data-tel': '' }, phone);
}

/** The person and the phone link one after another, `between` them when both are known: a line of the grid's e-file
 *  and a cell of the office's black list say a contact so. */
export function contactParts(contact: Contact, between: string): (string | HTMLAnchorElement)[] {
  const phone = phoneLink(contact.phone);
  return [contact.name ?? '', contact.name && phone ? between : '', ...(phone ? [phone] : [])];
}
