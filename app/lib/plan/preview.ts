import type { PlanStepInput } from "../../_schemas/ops";
import type { Executor, StepContext, StepOutcome } from "./engine";
import { commandsOf, displayCommand } from "./ops";

/**
 * The preview executor: logs, per step, the exact commands it would run on the appliance and
 * changes nothing. Its "verification" is that the step's commands rendered from a valid input.
 * `failOnce` makes the first attempt of an op fail (FREEHOLD_PREVIEW_FAIL_ONCE, for the e2e test of
 * the retry path); `stepMs` paces the steps so progress can be watched.
 */
export function previewExecutor(options: { stepMs?: number; failOnce?: string | undefined } = {}): Executor {
  const stepMs = options.stepMs ?? 250;
  return {
    preview: true,
    async run(step: PlanStepInput, ctx: StepContext): Promise<StepOutcome> {
      const commands = commandsOf(step);
      if (commands.length === 0) await ctx.log("nothing to run");
      for (const command of commands) {
        await ctx.log(`would run: ${displayCommand(command)}`);
        if (command.writes) await ctx.log(command.writes.content.replace(/^/gm, "    | "));
        if (stepMs > 0) await new Promise((r) => setTimeout(r, stepMs / Math.max(commands.length, 1)));
      }
      if (options.failOnce === step.op && ctx.attempt === 1) {
        throw new Error(
          `preview: ${step.op} failed on purpose on its first attempt (FREEHOLD_PREVIEW_FAIL_ONCE)`,
        );
      }
      await ctx.log("preview: not executed; nothing on this machine was changed");
      return { verified: true };
    },
  };
}
