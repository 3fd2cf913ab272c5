import { defineConfig } from "vitest/config";

// The VM suite: boots real images under QEMU, one at a time (2 cores, TCG).
export default defineConfig({
  test: {
    include: ["test/vm/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 30 * 60_000,
    hookTimeout: 45 * 60_000,
    teardownTimeout: 60_000,
  },
});
