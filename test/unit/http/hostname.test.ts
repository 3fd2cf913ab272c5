import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { boxHostnames, readHostnameFile } from "../../../app/lib/system/hostname";

const dir = mkdtempSync(path.join(tmpdir(), "freehold-hostname-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("the box's host names", () => {
  it("is the name it started with plus the one /etc/hostname has now, once each", () => {
    expect(boxHostnames(file("renamed", "homebox\n"), "freehold")).toEqual(["freehold", "homebox"]);
    expect(boxHostnames(file("same", "freehold\n"), "freehold")).toEqual(["freehold"]);
    expect(boxHostnames(path.join(dir, "absent"), "freehold")).toEqual(["freehold"]);
  });

  it("reads the file at most every 2 seconds (it is asked on every request)", () => {
    const p = file("cached", "homebox\n");
    expect(boxHostnames(p, "freehold", 1_000_000)).toEqual(["freehold", "homebox"]);
    writeFileSync(p, "otherbox\n");
    expect(boxHostnames(p, "freehold", 1_001_000)).toEqual(["freehold", "homebox"]);
    expect(boxHostnames(p, "freehold", 1_002_500)).toEqual(["freehold", "otherbox"]);
  });

  it("ignores an /etc/hostname that is not a host name", () => {
    expect(readHostnameFile(file("bad1", "evil.com/x\n"))).toBeNull();
    expect(readHostnameFile(file("bad2", "-lead\n"))).toBeNull();
    expect(readHostnameFile(file("bad3", "\n"))).toBeNull();
    expect(readHostnameFile(file("ok", "HomeBox\nsecond line\n"))).toBe("homebox");
  });
});
