import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { CAPABILITIES, type Capability } from './capabilities.js';
import { createApiToken, createSession, endSession, markSteppedUp, SESSION_COOKIE, sessionCaller, type Caller } from './caller.js';
import { verifyPassword } from './passwords.js';
import { callerOf } from './route-access.js';
import { checkAddress, recordFailure, recordSuccess } from './throttle.js';

/**
 * Logging in and proving it: password login (scrypt hashes, throttled per address and locked per login),
 * sessions in HTTP-only cookies with a CSRF token for writes, passkeys (WebAuthn) to log in and to step up
 * before risky actions, and API tokens for integrations.
 */
const callerReply = z.object({
  login: z.string(),
  tenant: z.string(),
  role: z.string(),
  principal_kind: z.string(),
  principal_id: z.string(),
  operator_id: z.string(),
  capabilities: z.array(z.string()),
  csrf_token: z.string().nullable(),
  step_up_until: z.string().nullable(),
});

const describeCaller = (caller: Caller, csrf_token: string | null = caller.csrf_token) => ({
  login: caller.login,
  tenant: caller.tenant,
  role: caller.role,
  principal_kind: caller.principal_kind,
  principal_id: caller.principal_id,
  operator_id: caller.operator_id,
  capabilities: [...caller.capabilities].sort(),
  csrf_token,
  step_up_until: caller.step_up_until?.toISOString() ?? null,
});

type LoginRow = { login_id: string; password_hash: string | null; locked_until: Date | null; disabled: boolean };

/**
 * A new session for a login that proved who it is (a password, a passkey, a one-time code at the hotspot): the
 * HTTP-only, SameSite=Strict session cookie on the reply, and the CSRF token its writes must carry.
 */
export async function startSession(deps: Pick<ApiDependencies, 'pool' | 'clock' | 'settings'>, reply: FastifyReply, login_id: string) {
  const session = await createSession(deps.pool, deps.clock, login_id);
  void reply.setCookie(SESSION_COOKIE, session.token, { httpOnly: true, secure: deps.settings.secure_cookies, sameSite: 'strict', path: '/', expires: session.expires_at });
  return session;
}

export const authRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, deps) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const { pool, clock, settings } = deps;
  const callerOfLogin = async (login_id: string, csrf_token: string) => describeCaller(await sessionCaller(pool, login_id, csrf_token));

  app.post(
    '/api/v1/auth/login',
    {
      config: { access: { capability: 'public', scope: 'none', example: { body: { login: 'admin@demo-net', password: 'the password' } } } },
      schema: {
        tags: ['auth'],
        summary: 'Log in with a password; sets the session cookie and returns the CSRF token for writes',
        body: z.object({ login: z.string().min(1).max(200), password: z.string().min(1).max(200) }).strict(),
        response: { 200: callerReply, ...errorReplies },
      },
    },
    async (request, reply) => {
      const address = request.ip;
      await checkAddress(pool, clock, address);
      const found = await pool.query<LoginRow>('SELECT login_id, password_hash, locked_until, disabled FROM logins WHERE login = $1', [request.body.login.trim().toLowerCase()]);
      const row = found.rows[0];
      const now = clock.now();
      if (row?.locked_until != null && row.locked_until.getTime() > now.getTime()) {
        throw new ApiError('LOGIN_LOCKED', `too many wrong passwords; this login is locked until ${row.locked_until.toISOString()}`);
      }
      const valid = await verifyPassword(request.body.password, row?.password_hash ?? null);
      if (row === undefined || !valid || row.disabled) {
        await recordFailure(pool, clock, address, row?.login_id ?? null);
        throw new ApiError('INVALID_LOGIN', 'wrong login or password');
      }
      await recordSuccess(pool, row.login_id);
      const session = await startSession(deps, reply, row.login_id);
      return callerOfLogin(row.login_id, session.csrf_token);
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { config: { access: { capability: 'authenticated', scope: 'none' } }, schema: { tags: ['auth'], summary: 'End this session', response: { 204: z.null(), ...errorReplies } } },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token !== undefined) await endSession(pool, token);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/auth/me',
    { config: { access: { capability: 'authenticated', scope: 'none' } }, schema: { tags: ['auth'], summary: 'Who I am, what I may do, and my CSRF token', response: { 200: callerReply, ...errorReplies } } },
    async (request) => describeCaller(callerOf(request)),
  );

  // --- API tokens ---------------------------------------------------------------------------------------
  app.post(
    '/api/v1/auth/tokens',
    {
      config: { access: { capability: 'authenticated', scope: 'none', example: { body: { name: 'crm', scopes: ['customers.read'] } } } },
      schema: {
        tags: ['auth'],
        summary: 'Create an API token with some of my capabilities (shown once)',
        body: z.object({ name: z.string().trim().min(1).max(80), scopes: z.array(z.enum(CAPABILITIES)).min(1).max(CAPABILITIES.length) }).strict(),
        response: { 201: z.object({ token_id: z.string(), token: z.string(), scopes: z.array(z.string()) }), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (caller.via !== 'session') throw new ApiError('FORBIDDEN', 'tokens are created from a logged-in session, not with another token');
      const beyond = request.body.scopes.filter((scope) => !caller.capabilities.has(scope));
      if (beyond.length > 0) throw new ApiError('FORBIDDEN', `a token cannot do more than its login: ${beyond.join(', ')}`);
      const created = await createApiToken(pool, clock, caller.login_id, request.body.name, request.body.scopes as Capability[]);
      return reply.code(201).send({ ...created, scopes: request.body.scopes });
    },
  );

  app.delete(
    '/api/v1/auth/tokens/:token_id',
    {
      config: { access: { capability: 'authenticated', scope: 'none' } },
      schema: { tags: ['auth'], summary: 'Revoke one of my API tokens', params: z.object({ token_id: z.uuid() }), response: { 204: z.null(), ...errorReplies } },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const revoked = await pool.query('UPDATE api_tokens SET revoked_at = $3 WHERE token_id = $1 AND login_id = $2 AND revoked_at IS NULL', [request.params.token_id, caller.login_id, clock.now()]);
      if (revoked.rowCount === 0) throw new ApiError('NOT_FOUND', 'no such active token of yours');
      return reply.code(204).send(null);
    },
  );

  // --- passkeys -----------------------------------------------------------------------------------------
  const rp = { rpName: 'IspBills', rpID: settings.rp_id };
  const challenge = async (login_id: string | null, purpose: 'register' | 'login' | 'step_up', value: string): Promise<void> => {
    await pool.query('DELETE FROM webauthn_challenges WHERE expires_at < $1', [clock.now()]);
    await pool.query('INSERT INTO webauthn_challenges (challenge, login_id, purpose, expires_at) VALUES ($1, $2, $3, $4)', [value, login_id, purpose, new Date(clock.now().getTime() + 5 * 60_000)]);
  };
  /** A challenge is good once, for its purpose and login, within five minutes. */
  const takeChallenge = async (value: string, purpose: string, login_id: string | null): Promise<{ login_id: string | null }> => {
    const taken = await pool.query<{ login_id: string | null }>(
      'DELETE FROM webauthn_challenges WHERE challenge = $1 AND purpose = $2 AND expires_at >= $3 AND ($4::uuid IS NULL OR login_id = $4) RETURNING login_id',
      [value, purpose, clock.now(), login_id],
    );
    if (taken.rows[0] === undefined) throw new ApiError('PASSKEY_REJECTED', 'this passkey challenge is unknown, used or expired; ask for new options');
    return taken.rows[0];
  };
  const clientChallenge = (response: { response: { clientDataJSON: string } }): string => {
    try {
      return (JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8')) as { challenge: string }).challenge;
    } catch {
      throw new ApiError('PASSKEY_REJECTED', 'clientDataJSON is not readable');
    }
  };
  const credentialsOf = async (login_id: string) =>
    (await pool.query<{ credential_id: string; public_key: Buffer; counter: string; transports: string[] }>('SELECT credential_id, public_key, counter, transports FROM webauthn_credentials WHERE login_id = $1', [login_id])).rows;
  const webauthnJson = z.record(z.string(), z.unknown());

  app.post(
    '/api/v1/auth/passkeys/register/options',
    { config: { access: { capability: 'authenticated', scope: 'none' } }, schema: { tags: ['auth'], summary: 'Options to register a passkey for my login', response: { 200: webauthnJson, ...errorReplies } } },
    async (request) => {
      const caller = callerOf(request);
      if (caller.via !== 'session') throw new ApiError('FORBIDDEN', 'passkeys are registered from a logged-in session');
      const existing = await credentialsOf(caller.login_id);
      const options = await generateRegistrationOptions({
        ...rp,
        userName: caller.login,
        userID: new TextEncoder().encode(caller.login_id),
        attestationType: 'none',
        excludeCredentials: existing.map((credential) => ({ id: credential.credential_id })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      });
      await challenge(caller.login_id, 'register', options.challenge);
      return options as unknown as Record<string, unknown>;
    },
  );

  app.post(
    '/api/v1/auth/passkeys/register/verify',
    {
      // The example cannot be a real attestation: it shows the shape, and is refused as PASSKEY_REJECTED.
      config: { access: { capability: 'authenticated', scope: 'none', example: { body: { name: 'laptop', response: { id: 'credential-id', response: { clientDataJSON: 'e30' } } } } } },
      schema: {
        tags: ['auth'],
        summary: 'Register the passkey the browser created',
        body: z.object({ name: z.string().trim().min(1).max(80).default('passkey'), response: webauthnJson }),
        response: { 201: z.object({ credential_id: z.string() }), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const response = request.body.response as unknown as RegistrationResponseJSON;
      const expected = clientChallenge(response as never);
      await takeChallenge(expected, 'register', caller.login_id);
      const verified = await verifyRegistrationResponse({ response, expectedChallenge: expected, expectedOrigin: settings.origin, expectedRPID: settings.rp_id }).catch((error: unknown) => {
        throw new ApiError('PASSKEY_REJECTED', `the passkey could not be verified: ${error instanceof Error ? error.message : String(error)}`);
      });
      if (!verified.verified) throw new ApiError('PASSKEY_REJECTED', 'the passkey could not be verified');
      const credential = verified.registrationInfo.credential;
      await pool.query('INSERT INTO webauthn_credentials (credential_id, login_id, public_key, counter, transports, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        credential.id,
        caller.login_id,
        Buffer.from(credential.publicKey),
        credential.counter,
        credential.transports ?? [],
        request.body.name,
        clock.now(),
      ]);
      return reply.code(201).send({ credential_id: credential.id });
    },
  );

  const authenticationOptions = async (login_id: string | null, purpose: 'login' | 'step_up') => {
    const allow = login_id === null ? [] : await credentialsOf(login_id);
    const options = await generateAuthenticationOptions({
      rpID: settings.rp_id,
      userVerification: 'preferred',
      allowCredentials: allow.map((credential) => ({ id: credential.credential_id, transports: credential.transports as never })),
    });
    await challenge(login_id, purpose, options.challenge);
    return options as unknown as Record<string, unknown>;
  };

  /** Verifies an assertion against the stored credential and moves its signature counter on. */
  const verifyAssertion = async (body: Record<string, unknown>, purpose: 'login' | 'step_up', login_id: string | null): Promise<string> => {
    const response = body as unknown as AuthenticationResponseJSON;
    const expected = clientChallenge(response as never);
    await takeChallenge(expected, purpose, login_id);
    const stored = await pool.query<{ credential_id: string; login_id: string; public_key: Buffer; counter: string; transports: string[] }>(
      'SELECT credential_id, login_id, public_key, counter, transports FROM webauthn_credentials WHERE credential_id = $1',
      [response.id],
    );
    const credential = stored.rows[0];
    if (credential === undefined || (login_id !== null && credential.login_id !== login_id)) throw new ApiError('PASSKEY_REJECTED', 'this passkey is not registered here');
    const verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: expected,
      expectedOrigin: settings.origin,
      expectedRPID: settings.rp_id,
      credential: { id: credential.credential_id, publicKey: new Uint8Array(credential.public_key), counter: Number(credential.counter), transports: credential.transports as never },
    }).catch((error: unknown) => {
      throw new ApiError('PASSKEY_REJECTED', `the passkey could not be verified: ${error instanceof Error ? error.message : String(error)}`);
    });
    if (!verified.verified) throw new ApiError('PASSKEY_REJECTED', 'the passkey could not be verified');
    await pool.query('UPDATE webauthn_credentials SET counter = $2, last_used_at = $3 WHERE credential_id = $1', [credential.credential_id, verified.authenticationInfo.newCounter, clock.now()]);
    return credential.login_id;
  };

  app.post(
    '/api/v1/auth/passkeys/login/options',
    { config: { access: { capability: 'public', scope: 'none' } }, schema: { tags: ['auth'], summary: 'Options to log in with a passkey', response: { 200: webauthnJson, ...errorReplies } } },
    async (request) => {
      await checkAddress(pool, clock, request.ip);
      return authenticationOptions(null, 'login');
    },
  );

  app.post(
    '/api/v1/auth/passkeys/login/verify',
    { config: { access: { capability: 'public', scope: 'none', example: { body: { id: 'credential-id', response: { clientDataJSON: 'e30' } } } } }, schema: { tags: ['auth'], summary: 'Log in with a passkey', body: webauthnJson, response: { 200: callerReply, ...errorReplies } } },
    async (request, reply) => {
      await checkAddress(pool, clock, request.ip);
      let login_id: string;
      try {
        login_id = await verifyAssertion(request.body, 'login', null);
      } catch (error) {
        await recordFailure(pool, clock, request.ip, null);
        throw error;
      }
      const disabled = await pool.query<{ disabled: boolean }>('SELECT disabled FROM logins WHERE login_id = $1', [login_id]);
      if (disabled.rows[0]?.disabled !== false) throw new ApiError('INVALID_LOGIN', 'this login is disabled');
      const session = await startSession(deps, reply, login_id);
      return callerOfLogin(login_id, session.csrf_token);
    },
  );

  app.post(
    '/api/v1/auth/passkeys/step-up/options',
    { config: { access: { capability: 'authenticated', scope: 'none' } }, schema: { tags: ['auth'], summary: 'Options to confirm a risky action with my passkey', response: { 200: webauthnJson, ...errorReplies } } },
    async (request) => {
      const caller = callerOf(request);
      if (caller.via !== 'session') throw new ApiError('FORBIDDEN', 'step-up belongs to a logged-in session');
      if ((await credentialsOf(caller.login_id)).length === 0) throw new ApiError('PASSKEY_REJECTED', 'register a passkey first (POST /api/v1/auth/passkeys/register/options)');
      return authenticationOptions(caller.login_id, 'step_up');
    },
  );

  app.post(
    '/api/v1/auth/passkeys/step-up/verify',
    {
      config: { access: { capability: 'authenticated', scope: 'none', example: { body: { id: 'credential-id', response: { clientDataJSON: 'e30' } } } } },
      schema: { tags: ['auth'], summary: 'Confirm with my passkey; risky actions are allowed for a few minutes', body: webauthnJson, response: { 200: z.object({ step_up_until: z.string() }), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await verifyAssertion(request.body, 'step_up', caller.login_id);
      const until = await markSteppedUp(pool, clock, request.cookies[SESSION_COOKIE]!);
      return { step_up_until: until.toISOString() };
    },
  );

};
