import { z } from "zod";

/** Values of the enumerated string columns in prisma/schema.prisma. */
export const PlanStatusSchema = z.enum(["draft", "applying", "done", "failed"]);
export const StepStateSchema = z.enum(["pending", "running", "done", "failed"]);
export const SetupCodeSourceSchema = z.enum(["console", "preseed", "preview"]);
export const AuditActorSchema = z.enum(["owner", "system", "anonymous"]);

export type PlanStatus = z.infer<typeof PlanStatusSchema>;
export type StepState = z.infer<typeof StepStateSchema>;
