import { Command, CommanderError } from "commander";
import { ZodError } from "zod";
import { registerDb } from "./commands/db";
import { registerDetect } from "./commands/detect";
import { registerFlash } from "./commands/flash";
import { registerImage } from "./commands/image";
import { registerRecommend } from "./commands/recommend";

const program = new Command()
  .name("freehold")
  .description("Build Freehold images, inspect hardware and run the wizard's tools from a shell.")
  .version(process.env.npm_package_version ?? "0.1.0")
  .showHelpAfterError("(run `freehold --help` for the commands)")
  .exitOverride();

registerDetect(program);
registerRecommend(program);
registerDb(program);
registerImage(program);
registerFlash(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof ZodError) {
    for (const issue of error.issues)
      console.error(`freehold: ${issue.path.join(".") || "input"}: ${issue.message}`);
    process.exit(1);
  }
  console.error(`freehold: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
