import type { ConsoleConfig } from './config';
import type { Session } from './roles';

/** A refusal or failure, in words a person can act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Service = keyof ConsoleConfig['services'];

const SERVICE_NAMES: Record<Service, string> = {
  approval: 'the approval service',
  recorder: 'the recorder',
  policy: 'the policy service',
  vault: 'the credential vault',
};

export interface Api {
  get<T>(service: Service, path: string): Promise<T>;
  send<T>(service: Service, method: 'POST' | 'PUT', path: string, body: unknown): Promise<T>;
  blob(service: Service, path: string): Promise<Blob>;
}

export function makeApi(config: ConsoleConfig, session: Session, onUnauthorized: () => void): Api {
  async function call(service: Service, path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${session.accessToken}`);
    let response: Response;
    try {
      response = await fetch(`${config.services[service].replace(/\/$/, '')}${path}`, { ...init, headers });
    } catch {
      throw new ApiError(
        0,
        'unreachable',
        `${SERVICE_NAMES[service]} did not answer (is it running, and does it allow this console's origin?)`,
      );
    }
    if (response.ok) return response;
    const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
    if (response.status === 401) onUnauthorized();
    const words = body.message ?? `${SERVICE_NAMES[service]} answered ${response.status}`;
    throw new ApiError(response.status, body.error ?? String(response.status), words);
  }
  return {
    async get<T>(service: Service, path: string): Promise<T> {
      return (await (await call(service, path, { method: 'GET' })).json()) as T;
    },
    async send<T>(service: Service, method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> {
      const response = await call(service, path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await response.json()) as T;
    },
    async blob(service: Service, path: string): Promise<Blob> {
      return (await call(service, path, { method: 'GET' })).blob();
    },
  };
}

/** Why something failed, for a person. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `Refused: ${err.message}`;
    if (err.status === 401) return `Not signed in or the sign-in expired: ${err.message}`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
