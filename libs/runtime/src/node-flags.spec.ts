import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NODE_FLAGS, serviceNodeFlags } from './node-flags';

const SERVICES = ['ingress-proxy', 'policy', 'approval', 'recorder', 'credential-vault'];

/** The CMD of each service's stage in the Dockerfile, as an argument list. */
function imageCommands(): Map<string, string[]> {
  const text = readFileSync(join(__dirname, '..', '..', '..', 'Dockerfile'), 'utf8');
  const commands = new Map<string, string[]>();
  let stage: string | undefined;
  for (const line of text.split('\n')) {
    const from = /^FROM \S+ AS (\S+)/.exec(line);
    if (from) stage = from[1];
    const cmd = /^CMD (\[.*\])$/.exec(line);
    if (cmd && stage) commands.set(stage, JSON.parse(cmd[1]) as string[]);
  }
  return commands;
}

describe('the node flags of each service', () => {
  it('are the flags its image starts it with', () => {
    const commands = imageCommands();
    for (const service of SERVICES) {
      expect(commands.get(service)).toEqual([
        'node',
        ...serviceNodeFlags(service),
        `dist/services/${service}/src/main.js`,
      ]);
    }
  });

  it('name only services that exist', () => {
    for (const service of Object.keys(SERVICE_NODE_FLAGS)) expect(SERVICES).toContain(service);
  });
});
