import { z } from "zod";
import { AgentRequestIdSchema } from "./agent";
import { PasswordFieldSchema } from "./auth";

/**
 * The web terminal's messages, on both of its hops:
 *
 * browser ⇄ freehold-web: a WebSocket on /api/terminal/ws?ticket=T (same origin and port). Every
 *   message is one JSON text message: ClientMessage from the browser, ServerMessage from the box.
 * freehold-web ⇄ freehold-agent (appliance): one connection to the agent's socket that starts with a
 *   TerminalOpenRequest line; after the TerminalOpened answer the connection carries only
 *   TerminalFrame lines (NDJSON), in both directions, until either side closes it.
 *
 * Terminal output and input travel as UTF-8 text (the pty speaks UTF-8; JSON escapes control bytes).
 */

export const TERMINAL_COLS = { min: 2, max: 500 } as const;
export const TERMINAL_ROWS = { min: 1, max: 200 } as const;
/** The largest WebSocket message freehold-web accepts (ws maxPayload); bigger ones close with 1009. */
export const TERMINAL_MAX_MESSAGE = 64 * 1024;
/** Pty output and input are cut into pieces of at most this many UTF-16 units per frame. */
export const TERMINAL_CHUNK = 8192;

export const TerminalSizeSchema = z.strictObject({
  cols: z.number().int().min(TERMINAL_COLS.min).max(TERMINAL_COLS.max),
  rows: z.number().int().min(TERMINAL_ROWS.min).max(TERMINAL_ROWS.max),
});
export type TerminalSize = z.infer<typeof TerminalSizeSchema>;

/** 32 random bytes, base64url. */
export const TerminalTicketSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "a terminal ticket");
/** 16 random bytes, base64url: names one terminal for reattaching after a reload. */
export const TerminalIdSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, "a terminal id");

/**
 * POST /api/terminal/ticket. A new terminal needs the owner's password again; reattaching to this
 * session's own detached terminal (after a reload) needs its id only.
 */
export const TerminalTicketRequestSchema = z.union([
  z.strictObject({ password: PasswordFieldSchema }),
  z.strictObject({ reattach: TerminalIdSchema }),
]);
export type TerminalTicketRequest = z.infer<typeof TerminalTicketRequestSchema>;

/** Browser → freehold-web. */
export const TerminalClientMessageSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("data"), data: z.string().min(1).max(TERMINAL_MAX_MESSAGE) }),
  TerminalSizeSchema.extend({ type: z.literal("resize") }),
  /** The owner ended the terminal (rather than leaving the page): no reattach window. */
  z.strictObject({ type: z.literal("close") }),
]);
export type TerminalClientMessage = z.infer<typeof TerminalClientMessageSchema>;

/** freehold-web → browser. */
export type TerminalServerMessage =
  | { type: "hello"; id: string; reattached: boolean; user: string }
  | { type: "data"; data: string }
  | { type: "exit"; code: number | null; reason: TerminalEndReason; message?: string };

export type TerminalEndReason =
  | "exit"
  | "closed"
  | "idle"
  | "detached-too-long"
  | "protocol"
  | "shutdown"
  /** The shell could not start (on the appliance: freehold-agent refused; `message` says why). */
  | "refused";

/** Close codes the terminal WebSocket uses besides the standard ones (1000, 1008, 1009, 1011). */
export const TERMINAL_CLOSE = {
  /** The shell exited. */
  exit: 1000,
  /** No input for FREEHOLD_TERMINAL_IDLE_MS. */
  idle: 4001,
  /** Another browser tab reattached to this terminal. */
  replaced: 4002,
} as const;

// ---- freehold-web ⇄ freehold-agent ----

/** The first (and only request) line of a terminal connection to the agent. No user, no command:
 * the agent runs the recorded owner's login shell, and nothing else. */
export const TerminalOpenRequestSchema = z.strictObject({
  id: AgentRequestIdSchema,
  terminal: z.literal("open"),
  cols: TerminalSizeSchema.shape.cols,
  rows: TerminalSizeSchema.shape.rows,
});
export type TerminalOpenRequest = z.infer<typeof TerminalOpenRequestSchema>;

/** The agent's answer when the shell runs; a refusal is an ordinary AgentFailure line. */
export const TerminalOpenedSchema = z.strictObject({
  id: AgentRequestIdSchema,
  ok: z.literal(true),
  terminal: z.literal("opened"),
  pid: z.number().int().positive(),
  user: z.string().max(64),
});
export type TerminalOpened = z.infer<typeof TerminalOpenedSchema>;

/** One NDJSON frame on an open terminal connection (data and resize from the web; data and exit from the agent). */
export const TerminalFrameSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("data"), data: z.string().max(TERMINAL_CHUNK) }),
  TerminalSizeSchema.extend({ type: z.literal("resize") }),
  z.strictObject({
    type: z.literal("exit"),
    code: z.number().int().nullable(),
    signal: z.number().int().nullable(),
  }),
]);
export type TerminalFrame = z.infer<typeof TerminalFrameSchema>;

/** Splits text into pieces of at most `size` UTF-16 units without cutting a surrogate pair. */
export function chunkText(text: string, size = TERMINAL_CHUNK): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && end - at > 1 && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}
