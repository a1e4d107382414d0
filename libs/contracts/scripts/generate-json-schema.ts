/**
 * Writes the published JSON Schema of the audit stream, generated from the zod contracts, to
 * libs/contracts/json-schema/audit/v<major>/ (one file per event type and audit-event.schema.json).
 * The files are committed: SIEM teams read them without building anything.
 *
 *   npx tsx libs/contracts/scripts/generate-json-schema.ts           write the files
 *   npx tsx libs/contracts/scripts/generate-json-schema.ts --check   exit 1 if they are out of date
 *
 * Imports its source files rather than `@airlock/contracts`, so it needs no path-alias resolution.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AUDIT_SCHEMA_VERSION } from '../src/audit';
import { auditJsonSchemas, formatJson } from '../src/json-schema';

const dir = join(__dirname, '..', 'json-schema', 'audit', `v${AUDIT_SCHEMA_VERSION}`);
const check = process.argv.includes('--check');

const wanted = new Map(Object.entries(auditJsonSchemas()).map(([file, schema]) => [file, formatJson(schema)]));
const present = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.schema.json')) : [];
const stale = present.filter((f) => !wanted.has(f));
const outdated = [...wanted].filter(([file, text]) => {
  const path = join(dir, file);
  return !existsSync(path) || readFileSync(path, 'utf8') !== text;
});
const shown = relative(process.cwd(), dir) || '.';

if (check) {
  if (outdated.length === 0 && stale.length === 0) {
    process.stdout.write(`${shown}: ${wanted.size} schemas up to date\n`);
  } else {
    for (const [file] of outdated) {
      const problem = existsSync(join(dir, file)) ? 'differs from the zod contracts' : 'missing';
      process.stderr.write(`${shown}/${file}: ${problem}\n`);
    }
    for (const file of stale) process.stderr.write(`${shown}/${file}: no such event type any more\n`);
    process.stderr.write('run: npx tsx libs/contracts/scripts/generate-json-schema.ts\n');
    process.exitCode = 1;
  }
} else {
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of outdated) writeFileSync(join(dir, file), text);
  for (const file of stale) rmSync(join(dir, file));
  process.stdout.write(`${shown}: ${wanted.size} schemas, ${outdated.length} written, ${stale.length} removed\n`);
}
