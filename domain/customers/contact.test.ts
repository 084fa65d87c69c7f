import { describe, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { contextAt, customerRegistered } from '../shared/spec-fixtures.js';
import { decideSetContactPreferences } from './contact.js';
import { evolveCustomer, initialCustomerState } from './customer-evolve.js';

const NOW = contextAt('2026-11-20T09:00:00Z');
const customer = () => given(evolveCustomer, initialCustomerState, [customerRegistered()]);

describe('contact preferences', () => {
  it('sets email, language and channels, and setting them again changes nothing', () => {
    const set = customer()
      .when((state) => decideSetContactPreferences(state, { email: ' alice@example.com ', language: 'bn', channels: ['sms', 'email'] }, NOW))
      .then([{ type: 'contact-preferences-set', data: { customer_id: 'cus-1', email: 'alice@example.com', language: 'bn', channels: ['sms', 'email'] } }]);
    given(evolveCustomer, initialCustomerState, [customerRegistered(), ...set])
      .when((state) => decideSetContactPreferences(state, { email: 'alice@example.com', language: 'bn', channels: ['sms', 'email'] }, NOW))
      .thenNothingHappens();
  });

  it('refuses, in order: a missing customer, a bad email, an unknown language or channel, a channel twice, email without an address', () => {
    given(evolveCustomer, initialCustomerState).when((state) => decideSetContactPreferences(state, { email: null, language: null, channels: null }, NOW)).thenRejects('CUSTOMER_NOT_FOUND');
    customer().when((state) => decideSetContactPreferences(state, { email: 'not an email', language: null, channels: null }, NOW)).thenRejects('INVALID_INPUT');
    customer().when((state) => decideSetContactPreferences(state, { email: null, language: 'fr' as never, channels: null }, NOW)).thenRejects('INVALID_INPUT');
    customer().when((state) => decideSetContactPreferences(state, { email: null, language: null, channels: ['pigeon' as never] }, NOW)).thenRejects('INVALID_INPUT');
    customer().when((state) => decideSetContactPreferences(state, { email: null, language: null, channels: ['sms', 'sms'] }, NOW)).thenRejects('INVALID_INPUT');
    customer().when((state) => decideSetContactPreferences(state, { email: null, language: null, channels: ['email'] }, NOW)).thenRejects('INVALID_INPUT');
  });
});
