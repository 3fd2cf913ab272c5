import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

/**
 * Applies prisma/migrations/<name>/migration.sql in name order, each in its own transaction,
 * recording name and checksum. Prisma's own `migrate deploy` cannot run multi-statement SQL
 * through the better-sqlite3 adapter, so the app and the CLI both use this.
 */

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

const MIGRATION_NAME = /^\d{14}_[a-z0-9_]+$/;

export function readMigrations(migrationsDir: string): Migration[] {
  let entries: string[];
  try {
    entries = readdirSync(migrationsDir);
  } catch (error) {
    throw new Error(
      `Cannot read migrations in ${migrationsDir}: ${(error as Error).message}. ` +
        "Set FREEHOLD_MIGRATIONS_DIR or run from the repository root.",
    );
  }
  return entries
    .filter((name) => MIGRATION_NAME.test(name))
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(migrationsDir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

export function migrate(databaseFile: string, migrationsDir: string): MigrateResult {
  if (databaseFile !== ":memory:") mkdirSync(path.dirname(databaseFile), { recursive: true });
  const db = new Database(databaseFile);
  try {
    return migrateOpen(db, readMigrations(migrationsDir));
  } finally {
    db.close();
  }
}

export function migrateOpen(db: Database.Database, migrations: Migration[]): MigrateResult {
  db.pragma("busy_timeout = 10000");
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  db.exec(`CREATE TABLE IF NOT EXISTS "_freehold_migrations" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "checksum" TEXT NOT NULL,
    "appliedAt" TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
  )`);
  const recordedChecksum = db.prepare<[string], { checksum: string }>(
    'SELECT checksum FROM "_freehold_migrations" WHERE name = ?',
  );
  const record = db.prepare('INSERT INTO "_freehold_migrations" (name, checksum) VALUES (?, ?)');
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    // BEGIN IMMEDIATE takes the write lock before looking, so two processes starting at once
    // cannot both apply the same migration.
    const applied = db
      .transaction(() => {
        const recorded = recordedChecksum.get(migration.name)?.checksum;
        if (recorded === undefined) {
          db.exec(migration.sql);
          record.run(migration.name, migration.checksum);
          return true;
        }
        if (recorded !== migration.checksum) {
          throw new Error(
            `Migration ${migration.name} was changed after it was applied (checksum differs). ` +
              "Add a new migration instead of editing an applied one.",
          );
        }
        return false;
      })
      .immediate();
    (applied ? result.applied : result.alreadyApplied).push(migration.name);
  }
  return result;
}
