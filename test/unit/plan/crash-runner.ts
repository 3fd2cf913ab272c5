// Runs a plan in its own process with an executor that records each execution in a file and
// hangs forever on the step named by argv[4], so the test can SIGKILL it mid-step.
import { appendFileSync } from "node:fs";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../../../app/_server/generated/prisma/client";
import { runPlan } from "../../../app/lib/plan/engine";

const [file, planId, journal, hangAt] = process.argv.slice(2) as [string, string, string, string];
const prisma = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${file}` }) });
await runPlan(prisma, planId, {
  preview: true,
  async run(_step, ctx) {
    appendFileSync(journal, `${ctx.position}\n`);
    if (ctx.position === Number(hangAt)) await new Promise(() => {});
    return { verified: true };
  },
});
