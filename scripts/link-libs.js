// After tsc has compiled into dist/, make `require('@airlock/<lib>')` resolve inside dist/ the way
// the tsconfig path aliases do at compile time: dist/node_modules/@airlock/<lib> re-exports the
// compiled library. No runtime resolver hook is needed.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
for (const lib of fs.readdirSync(path.join(root, 'libs'))) {
  const entry = path.join(dist, 'libs', lib, 'src', 'index.js');
  if (!fs.existsSync(entry)) continue;
  const dir = path.join(dist, 'node_modules', '@airlock', lib);
  fs.mkdirSync(dir, { recursive: true });
  const rel = path.relative(dir, entry).split(path.sep).join('/');
  fs.writeFileSync(path.join(dir, 'index.js'), `module.exports = require('${rel}');\n`);
}

// The `airlock` command (package.json "bin") is run directly by npx: it must be executable.
const cli = path.join(dist, 'libs', 'cli', 'src', 'main.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
