import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';

export interface HealthCheck {
  readonly name: string;
  /** Resolves when healthy; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

export interface HealthReport {
  service: string;
  status: 'ok' | 'unavailable';
  checks: Record<string, { status: 'ok' | 'failed'; error?: string }>;
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout;
  await Promise.race([
    p,
    new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}

/**
 * Probes. `GET /readyz` (and `GET /health`, its older name): 200 when every check (Kafka, the
 * database, Redis, as the service has them) passes, 503 with the failing checks otherwise: take
 * the instance out of rotation. `GET /livez`: 200 whenever the process answers HTTP at all: a
 * dependency that is down makes an instance unready, never a restart. A service declares it
 * among its controllers and provides HEALTH_CHECKS and SERVICE_NAME.
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[],
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  @Get('livez')
  live(): { service: string; status: 'ok' } {
    return { service: this.service, status: 'ok' };
  }

  @Get(['readyz', 'health'])
  async health(): Promise<HealthReport> {
    const report: HealthReport = { service: this.service, status: 'ok', checks: {} };
    await Promise.all(
      this.checks.map(async (c) => {
        try {
          await withTimeout(c.check(), 2000);
          report.checks[c.name] = { status: 'ok' };
        } catch (err) {
          report.status = 'unavailable';
          report.checks[c.name] = { status: 'failed', error: (err as Error).message };
        }
      }),
    );
    if (report.status !== 'ok') throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}
