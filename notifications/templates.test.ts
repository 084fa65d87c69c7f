import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NOTIFICATION_KINDS } from '../domain/notifications/notification.js';
import { maskRecipient } from '../domain/notifications/notification.js';
import { TemplateError, Templates } from './templates.js';

const values = { isp_name: 'Demo Net', name: 'Rahim', amount: '500.00', currency: 'BDT', period: '2026-11', due_on: '2026-11-06', expires_on: '2026-11-09' };

describe('notification templates', () => {
  it('has every kind in English and Bengali, with a subject and a body that use the values', () => {
    const templates = new Templates();
    for (const kind of NOTIFICATION_KINDS) {
      for (const language of ['en', 'bn'] as const) {
        const rendered = templates.render(kind, language, values);
        expect(rendered.subject).toContain('Demo Net');
        expect(rendered.body).toContain('Rahim');
        if (language === 'bn') expect(rendered.body).toMatch(/[\u0980-\u09FF]/);
        else expect(rendered.body).not.toMatch(/[\u0980-\u09FF]/);
      }
    }
    expect(templates.render('bill-issued', 'en', values).body).toBe('Dear Rahim, your bill for 2026-11 is 500.00 BDT, due by 2026-11-06. Thank you for staying with Demo Net.');
  });

  it('takes an ISP’s own wording from an override folder, and refuses one that names an unknown value at start', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ispbills-templates-'));
    mkdirSync(path.join(dir, 'en'));
    writeFileSync(path.join(dir, 'en', 'customer-expired.hbs'), 'Subject: Ended\n\nHi {{name}}, recharge at {{isp_name}} & stay online.\n');
    expect(new Templates(dir).render('customer-expired', 'en', values)).toEqual({ subject: 'Ended', body: 'Hi Rahim, recharge at Demo Net & stay online.' });
    writeFileSync(path.join(dir, 'en', 'customer-expired.hbs'), 'Subject: Ended\n\nHi {{nmae}}\n');
    expect(() => new Templates(dir)).toThrow(TemplateError);
    writeFileSync(path.join(dir, 'en', 'customer-expired.hbs'), 'no subject line\n');
    expect(() => new Templates(dir)).toThrow(/Subject/);
  });

  it('masks addresses for the log and the timeline', () => {
    expect(maskRecipient('+8801711000001')).toBe('+88017•••••001');
    expect(maskRecipient('rahim@example.com')).toBe('r•••@example.com');
    expect(maskRecipient('12345')).toBe('•••••');
  });
});
