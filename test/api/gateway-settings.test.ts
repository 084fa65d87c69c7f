import { describe, expect, it } from 'vitest';
import { gatewayAmount } from '../../api/gateways/online-payments.js';
import { gatewaySettingsFrom } from '../../api/gateways/settings.js';
import { Sslcommerz, sslcommerzSignature } from '../../api/gateways/sslcommerz.js';
import { ConfigError, loadConfig } from '../../cli/config.js';

/** The SSLCommerz pieces that need no server: configuration, the signature, amounts as the gateway writes them. */
describe('gateway settings', () => {
  it('is off without store credentials, on with both, and refuses one without the other at start', () => {
    expect(gatewaySettingsFrom({}).sslcommerz).toBeNull();
    const on = gatewaySettingsFrom({ SSLCOMMERZ_STORE_ID: 'store1', SSLCOMMERZ_STORE_PASSWORD: 'secret', GATEWAY_CALLBACK_URL: 'https://billing.example.net/some/path' });
    expect(on).toEqual({
      sslcommerz: { store_id: 'store1', store_password: 'secret', api_url: 'https://sandbox.sslcommerz.com', timeout_ms: 15_000 },
      callback_origin: 'https://billing.example.net',
      return_path: '/portal',
    });
    expect(loadConfig({ SSLCOMMERZ_STORE_ID: 'store1', SSLCOMMERZ_STORE_PASSWORD: 'secret' }).SSLCOMMERZ_API_URL).toBe('https://sandbox.sslcommerz.com');
    expect(() => loadConfig({ SSLCOMMERZ_STORE_ID: 'store1' })).toThrow(ConfigError);
    expect(() => loadConfig({ SSLCOMMERZ_API_URL: 'ftp://x' })).toThrow(/SSLCOMMERZ_API_URL/);
  });
});

describe('the SSLCommerz signature', () => {
  // Worked by hand (Python's hashlib): md5("amount=500.00&status=VALID&store_passwd=" + md5("qwerty") + "&tran_id=T1&val_id=V1").
  const fields = { tran_id: 'T1', status: 'VALID', val_id: 'V1', amount: '500.00' };
  const expected = 'c80ca73ea2f476bdf554c3f160a1ae4a';

  it('is the md5 of the signed fields and md5(store password), sorted by key', () => {
    expect(sslcommerzSignature(fields, ['tran_id', 'status', 'val_id', 'amount'], 'qwerty')).toBe(expected);
    // A field named store_passwd cannot stand in for the password's hash.
    expect(sslcommerzSignature({ ...fields, store_passwd: 'x' }, ['tran_id', 'status', 'val_id', 'amount', 'store_passwd'], 'qwerty')).toBe(expected);
  });

  it('authenticates a signed notification and refuses a changed or partly signed one', () => {
    const gateway = new Sslcommerz({ store_id: 's', store_password: 'qwerty', api_url: 'http://127.0.0.1:9', timeout_ms: 1_000 });
    const signed = { ...fields, verify_key: 'tran_id,status,val_id,amount', verify_sign: expected };
    expect(gateway.authenticate(signed)).toEqual({ tran_id: 'T1', outcome: 'paid', validation_id: 'V1', status_text: 'VALID' });
    expect(gateway.authenticate({ ...signed, verify_sign: expected.toUpperCase() }).outcome).toBe('paid');
    for (const forged of [{ ...signed, amount: '5000.00' }, { ...signed, verify_key: 'tran_id,status,amount' }, { ...signed, verify_sign: '' }, fields]) {
      expect(() => gateway.authenticate(forged)).toThrow(expect.objectContaining({ code: 'GATEWAY_SIGNATURE_INVALID', status: 400 }));
    }
  });
});

describe('amounts as a gateway writes them', () => {
  it('reads trailing zeros as no difference and refuses more precision than the currency has', () => {
    expect(gatewayAmount('500', 'BDT')?.toString()).toBe('500.00');
    expect(gatewayAmount('500.0000', 'BDT')?.toString()).toBe('500.00');
    expect(gatewayAmount('500.5', 'BDT')?.toString()).toBe('500.50');
    expect(gatewayAmount('500.001', 'BDT')).toBeNull();
    for (const text of ['', '-1', '1e3', ' 500', '500.', 'NaN']) expect(gatewayAmount(text, 'BDT')).toBeNull();
  });
});
