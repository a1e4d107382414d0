#!/usr/bin/env node
import { run } from './program';

/** The `airlock` command (package.json `bin`). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

void run(process.argv.slice(2), {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  readStdin,
  stdinIsTty: process.stdin.isTTY === true,
  env: process.env,
  setExit: () => undefined,
}).then((code) => {
  process.exitCode = code;
});
