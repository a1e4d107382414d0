import { loadToken, type CliSettings, type Service } from './config';
import { CliError, ExitCode } from './errors';

const NAMES: Record<Service, string> = {
  policy: 'policy service',
  approval: 'approval service',
  recorder: 'recorder',
  vault: 'credential vault',
};

/** How long one call may take before the CLI gives up. */
const TIMEOUT_MS = 30_000;

export interface Answer<T> {
  status: number;
  body: T;
}

/** The words of an error answer: its `message`, else its `error` code, else the status. */
function problemOf(status: number, text: string): string {
  try {
    const b = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof b.message === 'string' && b.message !== '') return b.message;
    if (Array.isArray(b.message)) return b.message.join('; ');
    if (typeof b.error === 'string') return b.error;
  } catch {
    /* not JSON */
  }
  return `HTTP ${status}`;
}

/** Calls the services' admin APIs with the person's token; turns refusals into exit codes. */
export class AdminClient {
  constructor(private readonly settings: CliSettings) {}

  url(service: Service, path: string): string {
    return `${this.settings.urls[service]}${path}`;
  }

  async call<T>(
    service: Service,
    method: string,
    path: string,
    opts: { body?: unknown; accept?: number[] } = {},
  ): Promise<Answer<T>> {
    const res = await this.send(service, method, path, opts.body);
    const text = await res.text();
    if (res.ok || opts.accept?.includes(res.status)) {
      let body: T;
      try {
        body = (text === '' ? {} : JSON.parse(text)) as T;
      } catch {
        throw new CliError(`the ${NAMES[service]} answered something that is not JSON`);
      }
      return { status: res.status, body };
    }
    throw refusal(service, res.status, problemOf(res.status, text));
  }

  /** A streamed answer (NDJSON export): the response, once its status is known to be 2xx. */
  async stream(service: Service, path: string): Promise<Response> {
    const res = await this.send(service, 'GET', path, undefined, false);
    if (!res.ok) throw refusal(service, res.status, problemOf(res.status, await res.text()));
    return res;
  }

  private async send(service: Service, method: string, path: string, body: unknown, timeout = true): Promise<Response> {
    const token = loadToken(this.settings);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.url(service, path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: timeout ? AbortSignal.timeout(TIMEOUT_MS) : undefined,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new CliError(`cannot reach the ${NAMES[service]} at ${this.settings.urls[service]} (${cause})`);
    }
  }
}

function refusal(service: Service, status: number, problem: string): CliError {
  if (status === 401) return new CliError(`not authenticated by the ${NAMES[service]}: ${problem}`, ExitCode.Auth);
  if (status === 403) return new CliError(`refused by the ${NAMES[service]}: ${problem}`, ExitCode.Auth);
  if (status === 404) return new CliError(problem, ExitCode.NotFound);
  return new CliError(`${NAMES[service]} (${status}): ${problem}`);
}
