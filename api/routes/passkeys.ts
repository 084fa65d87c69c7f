import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { errorReplies } from '../errors.js';
import { instantSql } from './route-kit.js';

/**
 * The passkeys of my login, so a person can see which devices may sign in as them (registering, logging in and
 * stepping up are in api/access/auth-routes.ts). Never the public keys: names, dates and transports.
 */
export const passkeyRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/api/v1/auth/passkeys',
    {
      config: { access: { capability: 'authenticated', scope: 'none' } },
      schema: {
        tags: ['auth'],
        summary: 'My passkeys: name, when registered and last used',
        response: {
          200: z.object({ passkeys: z.array(z.object({ credential_id: z.string(), name: z.string(), transports: z.array(z.string()), created_at: z.string(), last_used_at: z.string().nullable() })) }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const found = await pool.query(
        `SELECT credential_id, name, transports, ${instantSql('created_at')} AS created_at, ${instantSql('last_used_at')} AS last_used_at
           FROM webauthn_credentials WHERE login_id = $1 ORDER BY created_at, credential_id LIMIT 100`,
        [caller.login_id],
      );
      return { passkeys: found.rows };
    },
  );
};
