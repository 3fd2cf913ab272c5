import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { WEB_UNIT, webExecStart } from "../../../image/web-unit";
import { REPO } from "../../../scripts/sources";

describe("freehold-web's command line, as the image build and bench-web-start read it", () => {
  it("is the unit's own: V8 flags, the code-cache preload, then the server", () => {
    const argv = webExecStart(REPO);
    expect(argv[0]).toBe("/usr/bin/node");
    expect(argv.slice(1, 3)).toEqual(["--no-turbofan", "--no-sparkplug"]);
    const preload = argv.indexOf("--require");
    expect(argv[preload + 1]).toBe("/opt/freehold/compile-cache.cjs");
    expect(argv.at(-1)).toBe("/opt/freehold/server.cjs");
  });

  it("says which file lacks the line", () => {
    const root = mkdtempSync(path.join(tmpdir(), "freehold-web-unit-"));
    try {
      mkdirSync(path.join(root, path.dirname(WEB_UNIT)), { recursive: true });
      writeFileSync(path.join(root, WEB_UNIT), "[Service]\nExecStart=/bin/true\n");
      expect(() => webExecStart(root)).toThrow(`${WEB_UNIT} has no ExecStart=/usr/bin/node line`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
