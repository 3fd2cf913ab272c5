import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { CLAIMED_SQL } from "../db/setup-stage";
import { pollUntil } from "../poll";
import { generateSetupCode, hashSetupCode, normalizeSetupCode } from "./code";

/**
 * Makes sure an unclaimed box has a setup code, before the server listens.
 * - appliance: the code is the one in FREEHOLD_SETUP_CODE_FILE (written by a first-boot unit,
 *   0640 root:freehold, shown on the console); its hash is stored, and refreshed if the file changes.
 * - preview: a code is generated on first start; only its hash is stored; the code is printed once
 *   and written (0600) beside the preview database so the developer and the e2e tests can read it.
 * Nothing happens once the box is claimed.
 */
export interface SetupCodeResult {
  state: "claimed" | "issued" | "unchanged" | "missing";
  /** Only in preview mode, when a code was just generated. */
  code?: string;
  file: string;
}

export const APPLIANCE_SETUP_CODE_FILE = "/var/lib/freehold/setup-code";

export function previewSetupCodeFile(databaseFile: string): string {
  return path.join(path.dirname(databaseFile), "setup-code");
}

export function ensureSetupCode(options: {
  databaseFile: string;
  mode: "preview" | "appliance";
  setupCodeFile?: string | undefined;
}): SetupCodeResult {
  const db = new Database(options.databaseFile);
  db.pragma("busy_timeout = 10000");
  try {
    return db
      .transaction((): SetupCodeResult => {
        const claim = db
          .prepare<[], { codeHash: string }>('SELECT codeHash FROM "SetupClaim" WHERE id = 1')
          .get();
        const claimed =
          db.prepare<[], { claimed: 0 | 1 }>(`SELECT ${CLAIMED_SQL} AS claimed`).get()?.claimed === 1;
        const upsert = db.prepare(
          `INSERT INTO "SetupClaim" (id, codeHash, source) VALUES (1, ?, ?)
           ON CONFLICT(id) DO UPDATE SET codeHash = excluded.codeHash, source = excluded.source, createdAt = CURRENT_TIMESTAMP`,
        );
        if (options.mode === "appliance") {
          const file = options.setupCodeFile ?? APPLIANCE_SETUP_CODE_FILE;
          if (claimed) return { state: "claimed", file };
          let text: string;
          try {
            text = readFileSync(file, "utf8");
          } catch {
            return { state: "missing", file };
          }
          const normalized = normalizeSetupCode(text.trim());
          if (!normalized)
            throw new Error(`${file} does not hold a setup code (16 characters like ABCD-EFGH-JKLM-NPQR)`);
          const hash = hashSetupCode(normalized);
          if (claim?.codeHash === hash) return { state: "unchanged", file };
          upsert.run(hash, "console");
          return { state: "issued", file };
        }
        const file = options.setupCodeFile ?? previewSetupCodeFile(options.databaseFile);
        if (claimed) return { state: "claimed", file };
        if (claim && existsSync(file)) return { state: "unchanged", file };
        const code = generateSetupCode();
        upsert.run(hashSetupCode(normalizeSetupCode(code) ?? ""), "preview");
        mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.tmp`;
        writeFileSync(tmp, `${code}\n`, { mode: 0o600 });
        chmodSync(tmp, 0o600);
        renameSync(tmp, file);
        return { state: "issued", code, file };
      })
      .immediate();
  } finally {
    db.close();
  }
}

/**
 * ensureSetupCode, waiting for the appliance's file: the web app starts early in boot, beside
 * freehold-setup-code (which must follow the pre-seed unit), rather than after it. Gives up after
 * `timeoutMs` and answers "missing": the server still listens, and the claim page says the box has
 * no code yet. A file that holds no valid code fails at once (waiting would not fix it).
 */
export async function waitForSetupCode(
  options: Parameters<typeof ensureSetupCode>[0],
  timeoutMs = 120_000,
  intervalMs = 200,
): Promise<SetupCodeResult> {
  const gaveUp = new Error("no setup code yet");
  try {
    return await pollUntil(
      () => {
        const result = ensureSetupCode(options);
        return result.state === "missing" ? undefined : result;
      },
      { timeoutMs, intervalMs, timedOut: () => gaveUp },
    );
  } catch (error) {
    if (error !== gaveUp) throw error;
    return ensureSetupCode(options);
  }
}
