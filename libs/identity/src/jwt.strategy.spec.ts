import 'reflect-metadata';
import { Controller, Get, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Principal } from '@airlock/contracts';
import { TestIdentityProvider } from '@airlock/testing';
import { IdentityModule } from './identity.module';
import { JwtAuthGuard } from './jwt-auth.guard';
import { TOKEN_REJECTION_MESSAGES } from './token-rejected.error';

@Controller()
class WhoAmIController {
  @Get('whoami')
  @UseGuards(JwtAuthGuard)
  whoami(@Req() request: { user: Principal }): Principal {
    return request.user;
  }
}

describe('JwtAuthGuard with AirlockJwtStrategy', () => {
  let idp: TestIdentityProvider;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();

    @Module({
      imports: [
        IdentityModule.forRoot({
          issuers: [{ issuer: idp.issuer, jwksUri: idp.jwksUri }],
          audience: ['airlock'],
          clockSkewSeconds: 30,
        }),
      ],
      controllers: [WhoAmIController],
    })
    class TestAppModule {}

    app = await NestFactory.create<NestFastifyApplication>(TestAppModule, new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  async function call(authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await app.inject({
      method: 'GET',
      url: '/whoami',
      headers: authorization === undefined ? {} : { authorization },
    });
    return { status: response.statusCode, body: response.json() };
  }

  it('puts the principal of a valid token on the request', async () => {
    const token = await idp.sign({ sub: 'agent-1', groups: ['agents'] });

    await expect(call(`Bearer ${token}`)).resolves.toEqual({
      status: 200,
      body: { issuer: idp.issuer, subject: 'agent-1', groups: ['agents'] },
    });
  });

  it.each([[undefined], ['Bearer'], ['Basic dXNlcjpwYXNz']])(
    'answers 401 missing for authorization %p',
    async (header) => {
      await expect(call(header)).resolves.toEqual({
        status: 401,
        body: { statusCode: 401, error: 'Unauthorized', code: 'missing', message: TOKEN_REJECTION_MESSAGES.missing },
      });
    },
  );

  it('answers 401 with the rejection code and never echoes the token', async () => {
    const token = await idp.expired();

    const { status, body } = await call(`Bearer ${token}`);

    expect(status).toBe(401);
    expect(body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'expired',
      message: TOKEN_REJECTION_MESSAGES.expired,
    });
    expect(JSON.stringify(body)).not.toContain(token);
  });

  it('answers 401 algorithm for alg none', async () => {
    await expect(call(`Bearer ${idp.algNone()}`)).resolves.toMatchObject({ status: 401, body: { code: 'algorithm' } });
  });
});

// A separate application: the strategy registers itself with the passport singleton under a
// fixed name, so the most recently built application's verifier is the one in use.
describe('JwtAuthGuard when the issuer keys are unavailable', () => {
  it('answers 503 jwks_unavailable', async () => {
    const gone = await TestIdentityProvider.start();
    const token = await gone.sign({ sub: 'agent-1' });
    await gone.stop();

    @Module({
      imports: [
        IdentityModule.forRoot({
          issuers: [{ issuer: gone.issuer, jwksUri: gone.jwksUri }],
          audience: ['airlock'],
          clockSkewSeconds: 30,
        }),
      ],
      controllers: [WhoAmIController],
    })
    class UnavailableAppModule {}
    const app = await NestFactory.create<NestFastifyApplication>(UnavailableAppModule, new FastifyAdapter(), {
      logger: false,
    });
    try {
      await app.init();
      await app.getHttpAdapter().getInstance().ready();

      const response = await app.inject({
        method: 'GET',
        url: '/whoami',
        headers: { authorization: `Bearer ${token}` },
      });

      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'jwks_unavailable',
        message: TOKEN_REJECTION_MESSAGES.jwks_unavailable,
      });
    } finally {
      await app.close();
    }
  });
});
