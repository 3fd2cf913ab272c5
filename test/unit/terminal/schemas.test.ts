import { describe, expect, it } from "vitest";
import {
  chunkText,
  TerminalClientMessageSchema,
  TerminalFrameSchema,
  TerminalOpenRequestSchema,
  TerminalSizeSchema,
  TerminalTicketRequestSchema,
} from "../../../app/_schemas/terminal";

const ok = (cols: unknown, rows: unknown) => TerminalSizeSchema.safeParse({ cols, rows }).success;

describe("terminal schemas", () => {
  it("bound the window size: cols 2..500, rows 1..200, whole numbers", () => {
    expect(ok(2, 1)).toBe(true);
    expect(ok(500, 200)).toBe(true);
    expect(ok(80, 24)).toBe(true);
    for (const [cols, rows] of [
      [1, 24],
      [501, 24],
      [80, 0],
      [80, 201],
      [80.5, 24],
      [80, -1],
      ["80", 24],
      [Number.NaN, 24],
      [1e9, 24],
      [null, 24],
    ]) {
      expect(ok(cols, rows), `${cols}x${rows}`).toBe(false);
    }
  });

  it("accept the browser's messages and nothing else", () => {
    const parse = (v: unknown) => TerminalClientMessageSchema.safeParse(v).success;
    expect(parse({ type: "data", data: "ls\r" })).toBe(true);
    expect(parse({ type: "resize", cols: 120, rows: 40 })).toBe(true);
    expect(parse({ type: "close" })).toBe(true);
    expect(parse({ type: "resize", cols: 0, rows: 40 })).toBe(false);
    expect(parse({ type: "resize", cols: 120, rows: 40, extra: 1 })).toBe(false);
    expect(parse({ type: "data", data: "" })).toBe(false);
    expect(parse({ type: "exec", argv: ["sh"] })).toBe(false);
    expect(parse({ type: "data", data: 42 })).toBe(false);
  });

  it("ask the agent for a size only: no user, no command", () => {
    const base = { id: "t1", terminal: "open", cols: 80, rows: 24 };
    expect(TerminalOpenRequestSchema.safeParse(base).success).toBe(true);
    expect(TerminalOpenRequestSchema.safeParse({ ...base, user: "root" }).success).toBe(false);
    expect(TerminalOpenRequestSchema.safeParse({ ...base, command: ["/bin/sh"] }).success).toBe(false);
    expect(TerminalOpenRequestSchema.safeParse({ ...base, cols: 501 }).success).toBe(false);
    expect(TerminalFrameSchema.safeParse({ type: "resize", cols: 80, rows: 300 }).success).toBe(false);
    expect(TerminalFrameSchema.safeParse({ type: "data", data: "x".repeat(8193) }).success).toBe(false);
  });

  it("want a password for a new terminal, or a terminal id to reattach", () => {
    const parse = (v: unknown) => TerminalTicketRequestSchema.safeParse(v).success;
    expect(parse({ password: "maple river lantern 42" })).toBe(true);
    expect(parse({ reattach: "AAAAAAAAAAAAAAAAAAAAAA" })).toBe(true);
    expect(parse({})).toBe(false);
    expect(parse({ password: "" })).toBe(false);
    expect(parse({ reattach: "../../etc" })).toBe(false);
    expect(parse({ password: "x", reattach: "AAAAAAAAAAAAAAAAAAAAAA" })).toBe(false);
  });

  it("cut text into frames without splitting a surrogate pair", () => {
    expect(chunkText("")).toEqual([]);
    expect(chunkText("abcdef", 4)).toEqual(["abcd", "ef"]);
    const emoji = "ab😀cd"; // 😀 is two UTF-16 units at index 2..3
    expect(chunkText(emoji, 3)).toEqual(["ab", "😀c", "d"]);
    expect(chunkText("x".repeat(20000)).map((c) => c.length)).toEqual([8192, 8192, 3616]);
  });
});
