import type { Command } from "commander";
import { migrate } from "../../app/lib/db/migrate";
import { readEnv } from "../../app/lib/env";

export function registerDb(program: Command): void {
  const db = program.command("db").description("The wizard's SQLite database");
  db.command("migrate")
    .description("Create the database if needed and apply pending migrations (FREEHOLD_DB picks the file)")
    .action(() => {
      const env = readEnv();
      const { applied, alreadyApplied } = migrate(env.databaseFile, env.migrationsDir);
      console.log(`database: ${env.databaseFile}`);
      for (const name of applied) console.log(`applied: ${name}`);
      console.log(`${applied.length} applied, ${alreadyApplied.length} already applied`);
    });
}
