import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateVaultRegistry1764115200000 implements MigrationInterface {
  name = 'CreateVaultRegistry1764115200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE vault_connection (
        name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
        protocol text NOT NULL CHECK (protocol IN ('http', 'postgres')),
        upstream text NOT NULL,
        credential_kind text NOT NULL
          CHECK (credential_kind IN ('bearer', 'header', 'basic', 'aws-sigv4', 'postgres-password')),
        agent_credential_headers text[] NOT NULL DEFAULT ARRAY['authorization'],
        created_at timestamptz NOT NULL,
        created_by jsonb NOT NULL
      )`);
    // A key id gets its check row before it wraps anything, so every stored secret's key can be verified at boot.
    await q.query(`
      CREATE TABLE vault_key_check (
        key_id text PRIMARY KEY,
        wrapped bytea NOT NULL,
        iv bytea NOT NULL,
        tag bytea NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE vault_secret (
        connection text NOT NULL REFERENCES vault_connection (name),
        version int NOT NULL CHECK (version > 0),
        key_id text NOT NULL REFERENCES vault_key_check (key_id),
        wrapped_dek bytea NOT NULL,
        dek_iv bytea NOT NULL,
        dek_tag bytea NOT NULL,
        iv bytea NOT NULL,
        ciphertext bytea NOT NULL,
        tag bytea NOT NULL,
        created_at timestamptz NOT NULL,
        created_by jsonb NOT NULL,
        PRIMARY KEY (connection, version)
      )`);
    await q.query(`CREATE INDEX vault_secret_key_id ON vault_secret (key_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE vault_secret`);
    await q.query(`DROP TABLE vault_key_check`);
    await q.query(`DROP TABLE vault_connection`);
  }
}
