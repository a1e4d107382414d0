import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@airlock/runtime';
import { ConnectionRegistry } from './connection.registry';

function file(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'airlock-connections-')), 'connections.yaml');
  writeFileSync(f, text);
  return f;
}

describe('connection registry', () => {
  it('reads how each connection upstream reads a request, configured here or held by the vault', () => {
    const { connections, httpSettings } = ConnectionRegistry.read(
      file(`
connections:
  demo: { protocol: http, upstream: "http://127.0.0.1:1" }
httpSettings:
  demo: { pathCase: sensitive, rewriteHeaders: refuse }
  vaulted-s3: { pathParameters: refuse }
`),
    );
    expect([...connections.keys()]).toEqual(['demo']);
    expect(httpSettings.get('demo')).toEqual({ pathCase: 'sensitive', rewriteHeaders: 'refuse' });
    expect(httpSettings.get('vaulted-s3')).toEqual({ pathParameters: 'refuse' });
  });

  it('refuses an unknown setting or value, naming it', () => {
    expect(() =>
      ConnectionRegistry.read(file(`connections: {}\nhttpSettings:\n  demo: { pathCase: maybe }\n`)),
    ).toThrow(ConfigError);
    expect(() =>
      ConnectionRegistry.read(file(`connections: {}\nhttpSettings:\n  demo: { stripSemicolons: true }\n`)),
    ).toThrow(/httpSettings\.demo/);
  });
});
