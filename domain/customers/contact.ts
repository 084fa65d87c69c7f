import type { CommandContext } from '../shared/command-context.js';
import { accept, refuse, type Decision } from '../shared/decider.js';
import { rejection } from '../shared/rejection.js';
import type { ContactPreferences, CustomerEvent, CustomerState, NotificationChannel, NotificationLanguage } from './customer.js';

const CHANNELS: readonly NotificationChannel[] = ['sms', 'email', 'whatsapp'];
const LANGUAGES: readonly NotificationLanguage[] = ['en', 'bn'];
/** RFC 5321 limits a path to 254 characters; anything with spaces or without one @ is a typo. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{1,63}$/;

/**
 * How a customer wants to be told about bills, reminders and locks. Rules, in order: the customer exists; the
 * email (if any) looks like one; the language is English or Bengali; channels are known, listed once, and
 * email is only chosen with an address. Setting what is already set changes nothing.
 */
export function decideSetContactPreferences(state: CustomerState, preferences: ContactPreferences, _context: CommandContext): Decision<CustomerEvent> {
  if (!state.exists) return refuse(rejection('CUSTOMER_NOT_FOUND', 'no such customer'));
  const email = preferences.email === null ? null : preferences.email.trim();
  if (email !== null && (email.length > 254 || !EMAIL.test(email))) return refuse(rejection('INVALID_INPUT', `${JSON.stringify(preferences.email)} is not an email address`));
  if (preferences.language !== null && !LANGUAGES.includes(preferences.language)) return refuse(rejection('INVALID_INPUT', `language must be one of ${LANGUAGES.join(', ')} (or null for the ISP's default)`));
  if (preferences.channels !== null) {
    const unknown = preferences.channels.find((channel) => !CHANNELS.includes(channel));
    if (unknown !== undefined) return refuse(rejection('INVALID_INPUT', `channel ${JSON.stringify(unknown)} is not one of ${CHANNELS.join(', ')}`));
    if (new Set(preferences.channels).size !== preferences.channels.length) return refuse(rejection('INVALID_INPUT', 'list each channel once'));
    if (preferences.channels.includes('email') && email === null) return refuse(rejection('INVALID_INPUT', 'the email channel needs an email address'));
  }
  const next: ContactPreferences = { email, language: preferences.language, channels: preferences.channels === null ? null : [...preferences.channels] };
  if (JSON.stringify(next) === JSON.stringify(state.contact)) return accept();
  return accept({ type: 'contact-preferences-set', data: { customer_id: state.customer_id, ...next } });
}
