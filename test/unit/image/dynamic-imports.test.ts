import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { DYNAMIC_IMPORT_NAME, rewriteDynamicImports, sha256 } from "../../../app/lib/runtime/compile-cache";
import { dynamicImportPositions, dynamicImportTable } from "../../../image/dynamic-imports";

const dir = mkdtempSync(path.join(tmpdir(), "freehold-dynamic-imports-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("finding a CommonJS module's import() calls", () => {
  it("finds the calls, and not the same letters in strings, comments, templates or regexps", async () => {
    const source = [
      'const a = import("a");',
      "// import(b) in a comment",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a JavaScript template
      '/* import("c") */ const s = "import(d)", t = `import(${e})`, r = /import(f)/;',
      "exports.g = () => import ( g );",
    ].join("\n");
    const at = await dynamicImportPositions(source);
    expect(at).toEqual([source.indexOf('import("a")'), source.indexOf("import ( g )")]);
    const rewritten = rewriteDynamicImports(source, at ?? []);
    expect(rewritten).toContain(`const a = ${DYNAMIC_IMPORT_NAME}("a");`);
    expect(rewritten).toContain(`exports.g = () => ${DYNAMIC_IMPORT_NAME} ( g );`);
    // Strings, comments, templates and regexps keep their text.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a JavaScript template
    expect(rewritten).toContain('"import(d)", t = `import(${e})`, r = /import(f)/');
    expect(rewritten).toContain("// import(b) in a comment");
    // The rewritten module is still a valid CommonJS body, and has no import() call left.
    expect(() => new vm.Script(`(function (${DYNAMIC_IMPORT_NAME}) {${rewritten}\n})`)).not.toThrow();
    expect(await dynamicImportPositions(rewritten ?? "")).toBeUndefined();
  });

  it("gives nothing for a module it may not rewrite", async () => {
    expect(await dynamicImportPositions("module.exports = 1;")).toBeUndefined();
    // ES module syntax: not CommonJS, Node's ES module loader runs it.
    expect(await dynamicImportPositions('import x from "x"; import("y");')).toBeUndefined();
    expect(await dynamicImportPositions('export const x = () => import("y");')).toBeUndefined();
    expect(await dynamicImportPositions('const u = import.meta.url; import("y");')).toBeUndefined();
    expect(await dynamicImportPositions('#!/usr/bin/env node\nimport("y");')).toBeUndefined();
    expect(await dynamicImportPositions(`${DYNAMIC_IMPORT_NAME}; import("y");`)).toBeUndefined();
  });
});

describe("the table for the recording run", () => {
  it("lists the scripts that call import() by their path in the image, with hash and positions", async () => {
    const app = path.join(dir, "app");
    mkdirSync(path.join(app, "node_modules", "p"), { recursive: true });
    const calls = 'module.exports = () => import("x");';
    writeFileSync(path.join(app, "node_modules", "p", "calls.js"), calls);
    writeFileSync(path.join(app, "plain.cjs"), "module.exports = 1;");
    writeFileSync(path.join(app, "esm.js"), 'import x from "x"; export default () => import("y");');
    writeFileSync(path.join(app, "calls.mjs"), 'export const f = () => import("x");');
    const { table, skipped } = await dynamicImportTable(app, "/opt/freehold");
    expect([...table.keys()]).toEqual(["/opt/freehold/node_modules/p/calls.js"]);
    expect(table.get("/opt/freehold/node_modules/p/calls.js")).toEqual({
      sha256: sha256(calls),
      at: [calls.indexOf("import")],
    });
    expect(skipped).toBe(1);
  });
});
