import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Every form posts. Our forms submit with fetch once React has hydrated; a click before that (a
 * slow box, a web app restarting) makes the browser submit natively, and a form without
 * method="post" then puts its fields in the URL: a disk passphrase or password in the address
 * bar, the history and the server's logs. Seen in the VM test with the storage form.
 */
function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsxFiles(p) : e.name.endsWith(".tsx") ? [p] : [];
  });
}

describe("forms", () => {
  const forms = tsxFiles("app").flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(/<form\b[^>]*?(?=\bonSubmit|>)/gs)].map((m) => ({
      file,
      tag: m[0],
    })),
  );

  it("are found (the check is not empty)", () => {
    expect(forms.length).toBeGreaterThanOrEqual(15);
  });

  it.each(forms.map((f) => [f.file, f.tag] as const))('%s: <form method="post">', (_file, tag) => {
    expect(tag).toMatch(/\bmethod="post"/);
  });
});
