import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The module-boundary lint rule must mean something: a service that imports another service, or
 * production code that imports the test helpers, fails the lint.
 */
describe('module boundaries', () => {
  const root = join(__dirname, '..');

  beforeAll(() => {
    // The rule reads Nx's project graph; build it (no daemon, no cloud).
    execFileSync(join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
  }, 60000);

  /** Lints `code` as if it were the file at `filePath`, in a child process (ESLint loads its config as ESM). */
  async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
    let out: string;
    try {
      out = execFileSync(
        join(root, 'node_modules', '.bin', 'eslint'),
        ['--stdin', '--stdin-filename', join(root, filePath), '--format', 'json'],
        {
          cwd: root,
          input: code,
          env: { ...process.env, NX_DAEMON: 'false' },
        },
      ).toString();
    } catch (err) {
      // eslint exits 1 when it found problems; the report is still on stdout.
      out = String((err as { stdout?: Buffer }).stdout ?? '');
    }
    const [result] = JSON.parse(out) as { messages: { ruleId: string | null; message: string }[] }[];
    return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
  }

  it('refuses a service importing another service', async () => {
    const errors = await boundaryErrors(
      'services/policy/src/boundary-probe.ts',
      "import { RecorderConfigSchema } from '../../recorder/src/config';\nexport const x = RecorderConfigSchema;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('refuses production code importing the test helpers', async () => {
    const errors = await boundaryErrors(
      'services/ingress-proxy/src/boundary-probe.ts',
      "import { EchoUpstream } from '@airlock/testing';\nexport const x = EchoUpstream;\n",
    );
    expect(errors.join('\n')).toMatch(/type:service/);
  });

  it('lets a service import shared libraries, and a spec use the test helpers', async () => {
    expect(
      await boundaryErrors(
        'services/policy/src/boundary-probe.ts',
        "import { Topics } from '@airlock/contracts';\nexport const x = Topics;\n",
      ),
    ).toEqual([]);
    expect(
      await boundaryErrors(
        'services/policy/src/boundary-probe.spec.ts',
        "import { EchoUpstream } from '@airlock/testing';\nexport const x = EchoUpstream;\n",
      ),
    ).toEqual([]);
  });
});
