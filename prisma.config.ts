import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { defineConfig } from "prisma/config";

// The JS schema engine with the better-sqlite3 adapter: nothing is downloaded.
const databaseFile = process.env.FREEHOLD_DB ?? path.resolve(".cache/dev/freehold.db");

export default defineConfig({
  experimental: { adapter: true },
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  engine: "js",
  adapter: async () => new PrismaBetterSQLite3({ url: `file:${databaseFile}` }),
});
