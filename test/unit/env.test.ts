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

  it("names the variable that is wrong", () => {
    expect(() => readEnv({ FREEHOLD_MODE: "production" })).toThrow(/FREEHOLD_MODE/);
    expect(() => readEnv({ PORT: "99999" })).toThrow(/PORT/);
  });
});
