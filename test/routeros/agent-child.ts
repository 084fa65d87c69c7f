/**
 * A router-agent in a process of its own, for the kill -9 test: it leads, drives the routers, and is killed
 * mid-command by the test. Usage: node --import tsx agent-child.ts (AGENT_DATABASE_URL, AGENT_KEY_HEX set).
 */
import pg from 'pg';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { RouterAgent } from '../../router-agent/agent.js';
import { AesGcmSecretBox } from '../../router-agent/credentials.js';
import { agentOptions } from './agent-harness.js';

const url = process.env.AGENT_DATABASE_URL;
const key = process.env.AGENT_KEY_HEX;
if (url === undefined || key === undefined) throw new Error('set AGENT_DATABASE_URL and AGENT_KEY_HEX');
const pool = new pg.Pool({ connectionString: url, max: 8 });
const store = new PostgresEventStore(pool, { poll_interval_ms: 20 });
const agent = new RouterAgent(pool, store, agentOptions(new AesGcmSecretBox(Buffer.from(key, 'hex'))));
await agent.start();
while (!agent.leading) await new Promise((resolve) => setTimeout(resolve, 20));
process.stdout.write('leading\n');
