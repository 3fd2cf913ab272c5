import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that spawn processes and compile share 2 cores; keep the pool small.
    maxWorkers: 2,
  },
});
