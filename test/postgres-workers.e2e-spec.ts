import { connect as netConnect } from 'node:net';
import { Client } from 'pg';
import { encodeCancelRequest } from '@airlock/pg-wire';
import { PgUpstreamDatabase } from '@airlock/testing';
import { sampleValue, scrape } from './support/observability';
import { TestSystem } from './support/system';

/**
 * With several ingress workers a CancelRequest lands on whichever worker the kernel hands the
 * new connection to, while the session it names lives in one of them: the workers relay it.
 */
describe('PostgreSQL with two ingress workers', () => {
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

  async function connectClients(n: number): Promise<Client[]> {
    const token = await sys.token();
    const clients: Client[] = [];
    for (let i = 0; i < n; i++) {
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
    return clients;
  }

  it('cancels the right query wherever the cancel request lands', async () => {
    const clients = await connectClients(4);
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

  it("counts every worker's statements in one scrape, whichever worker answers it", async () => {
    const completed = (text: string): number =>
      sampleValue(text, 'airlock_ingress_operations_total', {
        protocol: 'postgres',
        connection: 'pgdb',
        outcome: 'completed',
      });
    const before = completed(await scrape(sys.ingress.url));
    // Connections are handed to the workers in turn: four sessions land on both.
    const clients = await connectClients(4);
    const perClient = [3, 5, 7, 11];
    try {
      await Promise.all(
        clients.map(async (c, i) => {
          for (let k = 0; k < perClient[i]; k++) await c.query('SELECT 1 AS one');
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    const statements = perClient.reduce((a, b) => a + b, 0);
    // Several scrapes, so both workers answer at least one: each must show the whole pod.
    for (let i = 0; i < 4; i++) {
      const text = await scrape(sys.ingress.url);
      expect(completed(text) - before).toBe(statements);
    }
  });
});
