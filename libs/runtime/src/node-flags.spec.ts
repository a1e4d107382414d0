import { SERVICE_NODE_FLAGS } from './node-flags';

// The image starts each service with its flags: test/compose.spec.ts checks the Dockerfile's CMD.
describe('the node flags of each service', () => {
  it('name only services that exist', () => {
    const services = ['ingress-proxy', 'policy', 'approval', 'recorder', 'credential-vault'];
    for (const service of Object.keys(SERVICE_NODE_FLAGS)) expect(services).toContain(service);
  });
});
