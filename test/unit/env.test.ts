import { describe, expect, it } from "vitest";
import { readEnv } from "../../app/lib/env";

describe("readEnv", () => {
  it("defaults to preview mode with the database under the working directory", () => {
    const env = readEnv({}, "/srv/freehold");
    expect(env.FREEHOLD_MODE).toBe("preview");
    expect(env.databaseFile).toBe("/srv/freehold/.cache/preview/freehold.db");
    expect(env.migrationsDir).toBe("/srv/freehold/prisma/migrations");
  });

  it("keeps the appliance's database in /var/lib/freehold", () => {
    expect(readEnv({ FREEHOLD_MODE: "appliance" }, "/opt/freehold").databaseFile).toBe(
      "/var/lib/freehold/freehold.db",
    );
  });

  it("reads the terminal's idle and reattach times, with bounds", () => {
    expect(readEnv({})).toMatchObject({
      FREEHOLD_TERMINAL_IDLE_MS: 15 * 60_000,
      FREEHOLD_TERMINAL_REATTACH_MS: 30_000,
    });
    expect(readEnv({ FREEHOLD_TERMINAL_IDLE_MS: "2000" }).FREEHOLD_TERMINAL_IDLE_MS).toBe(2000);
    expect(() => readEnv({ FREEHOLD_TERMINAL_IDLE_MS: "10" })).toThrow(/FREEHOLD_TERMINAL_IDLE_MS/);
    expect(() => readEnv({ FREEHOLD_TERMINAL_REATTACH_MS: "-1" })).toThrow(/FREEHOLD_TERMINAL_REATTACH_MS/);
  });

  it("names the variable that is wrong", () => {
    expect(() => readEnv({ FREEHOLD_MODE: "production" })).toThrow(/FREEHOLD_MODE/);
    expect(() => readEnv({ PORT: "99999" })).toThrow(/PORT/);
  });
});
