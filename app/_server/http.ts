import "server-only";
import { NextResponse } from "next/server";
import type { z } from "zod";
import { readSession } from "../lib/auth/session";
import { db } from "./db";
import { type RequestFacts, requestFacts } from "./request";
import { sessionToken } from "./session";

/**
 * The one wrapper every route handler uses: JSON only (a cross-site text/plain form post is
 * refused with 415 even before the Origin check matters), a size cap, zod at the boundary
 * (malformed → 422 with the fields), an optional session requirement, and no stack traces out.
 */
const MAX_BODY = 64 * 1024;

export type Problem = { ok: false; error: string; message: string; fields?: Record<string, string[]> };

export function problem(
  status: number,
  error: string,
  message: string,
  extra: Partial<Problem> = {},
  init?: ResponseInit,
) {
  return NextResponse.json({ ok: false, error, message, ...extra } satisfies Problem, {
    status,
    ...init,
    headers: { "cache-control": "no-store", ...(init?.headers ?? {}) },
  });
}

export async function readJsonBody(
  request: Request,
): Promise<{ ok: true; value: unknown } | { ok: false; response: NextResponse }> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json(;|$)/i.test(type.trim())) {
    return {
      ok: false,
      response: problem(415, "unsupported-media-type", "Send JSON (Content-Type: application/json)."),
    };
  }
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY) {
        await reader.cancel();
        return { ok: false, response: problem(413, "too-large", "The request body is too large.") };
      }
      chunks.push(value);
    }
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") };
  } catch {
    return { ok: false, response: problem(400, "bad-json", "The request body is not valid JSON.") };
  }
}

export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".") || "_";
    fields[key] = [...(fields[key] ?? []), issue.message];
  }
  return fields;
}

type Session = NonNullable<Awaited<ReturnType<typeof readSession>>>;

export function handler<S extends z.ZodType, A extends boolean>(
  schema: S,
  options: { auth: A },
  fn: (
    input: z.infer<S>,
    ctx: { facts: RequestFacts; session: A extends true ? Session : null; request: Request },
  ) => Promise<Response>,
) {
  return async (request: Request): Promise<Response> => {
    try {
      const facts = await requestFacts();
      let session: Session | null = null;
      if (options.auth) {
        session = await readSession(db(), await sessionToken());
        if (!session) return problem(401, "unauthenticated", "Sign in first.");
      }
      const body = await readJsonBody(request);
      if (!body.ok) return body.response;
      const parsed = schema.safeParse(body.value);
      if (!parsed.success) {
        return problem(422, "invalid", "Check the highlighted fields.", {
          fields: fieldErrors(parsed.error),
        });
      }
      return await fn(parsed.data, { facts, session: session as never, request });
    } catch (error) {
      console.error("freehold-web: handler failed", error);
      return problem(500, "internal-error", "Something went wrong on the box; see its log.");
    }
  };
}
