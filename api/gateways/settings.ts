import { z } from 'zod';

/**
 * The online payment gateways' settings, from the environment. `cli/config.ts` spreads these into the one
 * configuration schema so a bad value stops `ispbills serve` at start with the others; the gateway routes read
 * them again here when the API is built (the API plugins get no other channel for them).
 *
 * SSLCommerz is on when both the store id and the store password are set. Sandbox stores use
 * https://sandbox.sslcommerz.com (the default); live stores https://securepay.sslcommerz.com.
 */
const httpUrl = (example: string) => z.url({ protocol: /^https?$/, message: `must be an http(s) URL, e.g. ${example}` });

export const GATEWAY_CONFIG = {
  SSLCOMMERZ_STORE_ID: z.string().trim().min(1).max(64).optional(),
  SSLCOMMERZ_STORE_PASSWORD: z.string().min(1).max(128).optional(),
  SSLCOMMERZ_API_URL: httpUrl('https://securepay.sslcommerz.com').default('https://sandbox.sslcommerz.com'),
  /** How long one call to the gateway (session or validation API) may take before it counts as failed. */
  SSLCOMMERZ_TIMEOUT_MS: z.coerce.number().int().min(500).max(120_000).default(15_000),
  /** Where the gateway's notifications and the customer's browser reach this server; PUBLIC_URL when unset. */
  GATEWAY_CALLBACK_URL: httpUrl('https://billing.example.net').optional(),
  /** Where a customer's browser lands after paying (on this server's origin), with ?payment=<tran_id>&outcome=… */
  ONLINE_PAYMENT_RETURN_PATH: z.string().regex(/^\/[A-Za-z0-9/_.-]{0,200}$/, 'must be a path like /portal').default('/portal'),
} as const;

const gatewaySchema = z.object(GATEWAY_CONFIG);

export type SslcommerzSettings = Readonly<{ store_id: string; store_password: string; api_url: string; timeout_ms: number }>;

export type GatewaySettings = Readonly<{
  sslcommerz: SslcommerzSettings | null;
  /** Origin (scheme, host, port) the gateway calls back; null to use the API's public origin. */
  callback_origin: string | null;
  return_path: string;
}>;

export function gatewaySettingsFrom(env: NodeJS.ProcessEnv): GatewaySettings {
  const present = Object.fromEntries(Object.entries(env).filter(([name, value]) => name in GATEWAY_CONFIG && value !== undefined && value !== ''));
  const parsed = gatewaySchema.parse(present);
  const configured = parsed.SSLCOMMERZ_STORE_ID !== undefined && parsed.SSLCOMMERZ_STORE_PASSWORD !== undefined;
  return {
    sslcommerz: configured
      ? {
          store_id: parsed.SSLCOMMERZ_STORE_ID!,
          store_password: parsed.SSLCOMMERZ_STORE_PASSWORD!,
          api_url: parsed.SSLCOMMERZ_API_URL.replace(/\/+$/, ''),
          timeout_ms: parsed.SSLCOMMERZ_TIMEOUT_MS,
        }
      : null,
    callback_origin: parsed.GATEWAY_CALLBACK_URL === undefined ? null : new URL(parsed.GATEWAY_CALLBACK_URL).origin,
    return_path: parsed.ONLINE_PAYMENT_RETURN_PATH,
  };
}
