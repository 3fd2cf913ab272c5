import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type HardwareProfile, parseHardwareProfile } from "../../../app/_schemas/hardware";

export const FIXTURE_DIR = path.resolve("test/fixtures/hardware");
export const FIXTURES = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();

export function fixture(name: string): HardwareProfile {
  return parseHardwareProfile(
    JSON.parse(readFileSync(path.join(FIXTURE_DIR, name.endsWith(".json") ? name : `${name}.json`), "utf8")),
  );
}
