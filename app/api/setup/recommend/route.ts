import { NextResponse } from "next/server";
import { z } from "zod";
import { problem } from "../../../_server/http";
import { currentOwner } from "../../../_server/session";
import { readDraft, recommendation } from "../../../_server/setup";

const QuerySchema = z.strictObject({
  nodes: z
    .string()
    .max(2000)
    .regex(/^[a-z0-9,-]*$/)
    .default(""),
  models: z
    .string()
    .max(2000)
    .regex(/^[a-zA-Z0-9,.:_-]*$/)
    .default(""),
  price: z.coerce.number().nonnegative().max(100).optional(),
});

/** Fit, dependencies and the energy estimate for a selection (the nodes and models pages ask live). */
export async function GET(request: Request): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  const parsed = QuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return problem(422, "invalid", "Bad selection.");
  const split = (v: string) => v.split(",").filter(Boolean);
  const draft = await readDraft();
  const rec = await recommendation(
    {
      ...draft,
      nodes: { nodes: split(parsed.data.nodes), priceKwh: parsed.data.price ?? draft.nodes?.priceKwh ?? 0.3 },
    },
    { nodes: split(parsed.data.nodes), models: split(parsed.data.models) },
  );
  if (!rec) return problem(503, "unavailable", "The recommendations could not be computed.");
  return NextResponse.json({ ok: true, recommendation: rec }, { headers: { "cache-control": "no-store" } });
}
