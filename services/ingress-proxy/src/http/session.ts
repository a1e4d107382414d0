import type { IncomingHttpHeaders } from 'node:http';
import { uuidv7 } from '@airlock/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An agent may group its requests into one session with `x-airlock-session-id` (a UUID);
 * otherwise each request is a session of its own.
 */
export function sessionIdOf(headers: IncomingHttpHeaders): string {
  const h = headers['x-airlock-session-id'];
  return typeof h === 'string' && UUID.test(h.toLowerCase()) ? h.toLowerCase() : uuidv7();
}
