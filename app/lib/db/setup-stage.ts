import Database from "better-sqlite3";

/**
 * Where setup stands: unclaimed → (claim) → wizard → (plan applied, every step verified) → done.
 *
 * Read straight from SQLite, like the setup code before the server listens
 * (app/lib/setup-code/bootstrap.ts), not through Prisma: every wizard page, the wizard's layout,
 * the login page and the dashboard's layout ask this first, and the claim page (the first page a
 * new owner sees) needs nothing else from the database. Prisma's first query builds its query
 * compiler (WebAssembly, from the whole schema) and compiles each query's shape: tens of
 * milliseconds on a board, seconds under emulation, before the first page could answer. One fixed
 * read on a read-only connection answers at once; Prisma starts when the owner acts.
 *
 * The tables and columns are Prisma's (prisma/schema.prisma, its migrations);
 * test/unit/setup-stage.test.ts checks this read against what the Prisma client writes.
 */
export type SetupStage = "unclaimed" | "wizard" | "done";

/**
 * Claimed, as one SQL expression: an owner exists, or the claim was recorded. The same rule as
 * isClaimed in app/lib/auth/claim.ts (which the claim itself runs under its lock); the setup-code
 * bootstrap evaluates it inside its own transaction.
 */
export const CLAIMED_SQL = `(EXISTS (SELECT 1 FROM "Owner")
    OR EXISTS (SELECT 1 FROM "SetupClaim" WHERE "id" = 1 AND "claimedAt" IS NOT NULL))`;

const STAGE_SQL = `SELECT
  ${CLAIMED_SQL} AS claimed,
  EXISTS (SELECT 1 FROM "Plan" WHERE "kind" = 'setup' AND "status" = 'done') AS done`;

type StageRow = { claimed: 0 | 1; done: 0 | 1 };

// One read-only connection per process and database file; Next's dev server reloads modules.
const cache = globalThis as unknown as {
  freeholdStageReader?: { file: string; db: Database.Database; statement: Database.Statement<[], StageRow> };
};

function stageStatement(databaseFile: string): Database.Statement<[], StageRow> {
  if (cache.freeholdStageReader?.file !== databaseFile) {
    cache.freeholdStageReader?.db.close();
    cache.freeholdStageReader = undefined;
    // The server applied the migrations before it listened, so the file exists; a reader never
    // creates one. WAL readers do not wait for writers; the timeout covers a checkpoint.
    const db = new Database(databaseFile, { readonly: true, fileMustExist: true, timeout: 10_000 });
    cache.freeholdStageReader = { file: databaseFile, db, statement: db.prepare<[], StageRow>(STAGE_SQL) };
  }
  return cache.freeholdStageReader.statement;
}

export function readSetupStage(databaseFile: string): SetupStage {
  const row = stageStatement(databaseFile).get();
  if (!row?.claimed) return "unclaimed";
  return row.done ? "done" : "wizard";
}
