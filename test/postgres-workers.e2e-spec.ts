import { connect as netConnect } from 'node:net';
import { Client } from 'pg';
import { encodeCancelRequest } from '@airlock/pg-wire';
import { PgUpstreamDatabase } from '@airlock/testing';
import { TestSystem } from './support/system';

/**
 * With several ingress workers a CancelRequest lands on whichever worker the kernel hands the
 * new connection to, while the session it names lives in one of them: the workers relay it.
 */
describe('PostgreSQL cancel with two ingress workers', () => {
  const sys = new TestSystem();
  let db: PgUpstreamDatabase;

  beforeAll(async () => {
    await sys.start({ postgres: true, ingressEnv: { INGRESS_WORKERS: '2' } });
    db = await PgUpstreamDatabase.create('airlock_workers_up');
    await sys.addPgConnection('pgdb', db);
  }, 240000);

  afterAll(async () => {
    await sys.stop();
    await db?.drop();
  }, 60000);

  it('cancels the right query wherever the cancel request lands', async () => {
    const token = await sys.token();
    const clients: Client[] = [];
    for (let i = 0; i < 4; i++) {
      const c = new Client({
        host: '127.0.0.1',
        port: sys.pgPort,
        database: 'pgdb',
        user: 'agent',
        password: token,
        ssl: { rejectUnauthorized: false },
      });
      c.on('error', () => undefined);
      await c.connect();
      clients.push(c);
    }
    try {
      const started = Date.now();
      const outcomes = clients.map((c) =>
        c.query('SELECT pg_sleep(30)').then(
          () => 'finished',
          (e: { code?: string }) => e.code ?? 'error',
        ),
      );
      await new Promise((r) => setTimeout(r, 500));
      for (const c of clients) {
        const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
        const key = Buffer.alloc(4);
        key.writeInt32BE(secretKey);
        const s = netConnect({ host: '127.0.0.1', port: sys.pgPort });
        await new Promise<void>((r) => s.once('connect', () => r()));
        s.end(encodeCancelRequest(processID, key));
      }
      expect(await Promise.all(outcomes)).toEqual(['57014', '57014', '57014', '57014']);
      expect(Date.now() - started).toBeLessThan(15000);
      for (const c of clients) expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
