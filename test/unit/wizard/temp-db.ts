import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../../../app/_server/generated/prisma/client";
import { migrate } from "../../../app/lib/db/migrate";

/** A real, migrated SQLite file in a temp directory, with a Prisma client on it. */
export function tempDb() {
  const dir = mkdtempSync(path.join(tmpdir(), "freehold-test-"));
  const file = path.join(dir, "freehold.db");
  migrate(file, path.resolve("prisma/migrations"));
  const open = () => new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${file}` }) });
  const prisma = open();
  return {
    dir,
    file,
    prisma,
    open,
    async close() {
      await prisma.$disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
