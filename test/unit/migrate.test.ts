import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PrismaClient } from "../../app/_server/generated/prisma/client";
import { migrate, migrateOpen, readMigrations } from "../../app/lib/db/migrate";

const MIGRATIONS = path.resolve("prisma/migrations");
const run = promisify(execFile);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "freehold-migrate-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Tables, columns, indexes and foreign keys of a database, in a comparable form. */
function shape(db: Database.Database) {
  const tables = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '_freehold_migrations' ORDER BY name",
    )
    .all()
    .map((t) => t.name);
  return Object.fromEntries(
    tables.map((table) => [
      table,
      {
        columns: db.pragma(`table_info("${table}")`),
        indexes: (db.pragma(`index_list("${table}")`) as { name: string; unique: number }[])
          .map((i) => ({ unique: i.unique, columns: db.pragma(`index_info("${i.name}")`) }))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        foreignKeys: db.pragma(`foreign_key_list("${table}")`),
      },
    ]),
  );
}

describe("migrations", () => {
  it("create every table of the wizard's state in a fresh database, once", () => {
    const file = path.join(dir, "state.db");
    const first = migrate(file, MIGRATIONS);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(first.alreadyApplied).toEqual([]);

    const again = migrate(file, MIGRATIONS);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual(first.applied);

    const db = new Database(file, { readonly: true });
    expect(Object.keys(shape(db))).toEqual(
      [
        "AuditEvent",
        "Owner",
        "Plan",
        "PlanSecret",
        "PlanStep",
        "RateLimit",
        "Session",
        "SetupClaim",
        "WizardDraft",
      ].sort(),
    );
    db.close();
  });

  it("match prisma/schema.prisma exactly (a schema change without a migration fails here)", async () => {
    const migrated = new Database(":memory:");
    migrateOpen(migrated, readMigrations(MIGRATIONS));

    const { stdout } = await run(
      "npx",
      [
        "prisma",
        "migrate",
        "diff",
        "--from-empty",
        "--to-schema-datamodel",
        "prisma/schema.prisma",
        "--script",
      ],
      { env: { ...process.env, FREEHOLD_DB: path.join(dir, "unused.db") } },
    );
    const fromSchema = new Database(":memory:");
    fromSchema.exec(stdout);

    expect(shape(migrated)).toEqual(shape(fromSchema));
  });

  it("refuse a migration that was edited after it was applied", () => {
    const copy = path.join(dir, "migrations");
    cpSync(MIGRATIONS, copy, { recursive: true });
    const file = path.join(dir, "state.db");
    migrate(file, copy);
    const [first] = readMigrations(copy);
    if (!first) throw new Error("no migrations found");
    writeFileSync(path.join(copy, first.name, "migration.sql"), `${first.sql}\n-- edited\n`);
    expect(() => migrate(file, copy)).toThrow(/was changed after it was applied/);
  });

  it("apply each migration exactly once when two processes start at the same time", async () => {
    const file = path.join(dir, "race.db");
    const env = { ...process.env, FREEHOLD_DB: file };
    const cli = ["scripts/freehold.mjs", "db", "migrate"];
    const results = await Promise.all([
      run(process.execPath, cli, { env }),
      run(process.execPath, cli, { env }),
    ]);
    const appliedCounts = results.map((r) => Number(/(\d+) applied,/.exec(r.stdout)?.[1]));
    const total = readMigrations(MIGRATIONS).length;
    expect(appliedCounts.sort()).toEqual([0, total]);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM _freehold_migrations").get()).toEqual({ n: total });
    db.close();
  });

  it("report a missing migrations folder with what to do", () => {
    expect(() => migrate(path.join(dir, "x.db"), path.join(dir, "nowhere"))).toThrow(
      /FREEHOLD_MIGRATIONS_DIR/,
    );
  });
});

describe("the Prisma client on the migrated database", () => {
  it("stores plans with ordered steps and refuses a second owner", async () => {
    const file = path.join(dir, "client.db");
    migrate(file, MIGRATIONS);
    const prisma = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${file}` }) });
    try {
      await prisma.owner.create({ data: { username: "alice", passwordHash: "x" } });
      await expect(prisma.owner.create({ data: { username: "mallory", passwordHash: "y" } })).rejects.toThrow(
        /Unique constraint/,
      );
      expect(await prisma.owner.count()).toBe(1);

      await prisma.plan.create({
        data: {
          id: "p1",
          kind: "setup",
          status: "draft",
          steps: {
            create: [
              { position: 1, op: "firewall.apply", input: "{}", state: "pending" },
              { position: 0, op: "user.ensure", input: "{}", state: "done" },
            ],
          },
        },
      });
      await expect(
        prisma.planStep.create({
          data: { planId: "p1", position: 1, op: "dup", input: "{}", state: "pending" },
        }),
      ).rejects.toThrow(/Unique constraint/);
      const steps = await prisma.planStep.findMany({ where: { planId: "p1" }, orderBy: { position: "asc" } });
      expect(steps.map((s) => [s.op, s.state])).toEqual([
        ["user.ensure", "done"],
        ["firewall.apply", "pending"],
      ]);

      await prisma.plan.delete({ where: { id: "p1" } });
      expect(await prisma.planStep.count()).toBe(0);
    } finally {
      await prisma.$disconnect();
    }
  });
});

// The CLI needs to start quickly enough to be used from the image's units too.
it("freehold db migrate prints the database it used", () => {
  const file = path.join(tmpdir(), `freehold-cli-${process.pid}.db`);
  try {
    const out = execFileSync(process.execPath, ["scripts/freehold.mjs", "db", "migrate"], {
      env: { ...process.env, FREEHOLD_DB: file },
      encoding: "utf8",
    });
    expect(out).toContain(`database: ${file}`);
  } finally {
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
  }
});
