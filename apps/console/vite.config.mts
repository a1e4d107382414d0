import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

// The bundle is the same for every environment: where the issuer and the services are comes
// from /config.json at run time (apps/console/server/serve.ts writes it from its settings).
export default defineConfig({
  root,
  // Relative asset URLs: the server's <base href> places them, at the root or under a path.
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/apps/console/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
  },
});
