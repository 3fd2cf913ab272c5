import "server-only";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { readEnv } from "../lib/env";
import { PrismaClient } from "./generated/prisma/client";

// One client per process; Next's dev server reloads modules, so keep it on globalThis.
const globalForPrisma = globalThis as unknown as { freeholdPrisma?: PrismaClient };

export function db(): PrismaClient {
  if (!globalForPrisma.freeholdPrisma) {
    const { databaseFile } = readEnv();
    const adapter = new PrismaBetterSQLite3({ url: `file:${databaseFile}` });
    globalForPrisma.freeholdPrisma = new PrismaClient({ adapter });
  }
  return globalForPrisma.freeholdPrisma;
}
