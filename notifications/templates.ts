import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { NotificationLanguage } from '../domain/customers/customer.js';
import { NOTIFICATION_KINDS, type NotificationKind } from '../domain/notifications/notification.js';

/**
 * One handlebars template per notification kind and language, in `templates/<language>/<kind>.hbs`: a first
 * line `Subject: …` (used by email), a blank line, then the body (SMS, WhatsApp and the email's text). An ISP
 * changes the wording by pointing NOTIFY_TEMPLATES_DIR at a folder of the same shape; a file there replaces the
 * shipped one. All templates are compiled at start in strict mode, so a template that names a value the
 * scheduler does not provide fails at start, not at 09:00 when the reminders go out.
 */
export const LANGUAGES: readonly NotificationLanguage[] = ['en', 'bn'];
const SHIPPED = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');
/** SMS gateways split long texts into parts; a template rendering past this is a mistake. */
export const MAX_BODY_CHARS = 1_000;

/** The values every template may use. */
export type TemplateValues = Readonly<{
  isp_name: string;
  name: string;
  amount?: string;
  currency?: string;
  period?: string;
  due_on?: string;
  expires_on?: string;
}>;

export type Rendered = Readonly<{ subject: string; body: string }>;

export class TemplateError extends Error {
  readonly code = 'NOTIFICATION_TEMPLATE_INVALID';
}

type Compiled = Readonly<{ subject: HandlebarsTemplateDelegate; body: HandlebarsTemplateDelegate }>;

export class Templates {
  readonly #compiled = new Map<string, Compiled>();

  constructor(override_dir: string | null = null) {
    for (const language of LANGUAGES) {
      for (const kind of NOTIFICATION_KINDS) {
        const own = override_dir === null ? null : path.join(override_dir, language, `${kind}.hbs`);
        const file = own !== null && existsSync(own) ? own : path.join(SHIPPED, language, `${kind}.hbs`);
        this.#compiled.set(`${language}/${kind}`, compile(file));
      }
    }
    // Render every template once with sample values: a typo in a variable name stops the start.
    const sample: TemplateValues = { isp_name: 'ISP', name: 'Customer', amount: '1.00', currency: 'BDT', period: '2026-01', due_on: '2026-01-05', expires_on: '2026-01-05' };
    for (const [key, template] of this.#compiled) {
      try {
        template.subject(sample);
        template.body(sample);
      } catch (error) {
        throw new TemplateError(`template ${key}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  render(kind: NotificationKind, language: NotificationLanguage, values: TemplateValues): Rendered {
    const template = this.#compiled.get(`${language}/${kind}`);
    if (template === undefined) throw new TemplateError(`no template for ${kind} in ${language}`);
    const body = template.body(values).trim();
    if (body.length > MAX_BODY_CHARS) throw new TemplateError(`${language}/${kind} rendered ${body.length} characters; at most ${MAX_BODY_CHARS}`);
    return { subject: template.subject(values).trim(), body };
  }
}

function compile(file: string): Compiled {
  const text = readFileSync(file, 'utf8');
  const match = /^Subject:[ \t]*(.*)\r?\n\r?\n([\s\S]*)$/.exec(text);
  if (match === null) throw new TemplateError(`${file}: write a first line "Subject: …", a blank line, then the body`);
  // Messages are plain text: nothing is HTML-escaped. strict: an unknown variable is an error, not "".
  const options = { noEscape: true, strict: true };
  return { subject: Handlebars.compile(match[1]!, options), body: Handlebars.compile(match[2]!, options) };
}
