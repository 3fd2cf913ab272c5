import type { NextConfig } from "next";

// The Content-Security-Policy is not here: it carries a fresh nonce per request, so
// scripts/server.ts sets it (app/lib/http/guard.ts builds it) on every response.

const nextConfig: NextConfig = {
  output: "standalone",
  poweredByHeader: false,
  // No image optimizer on the appliance: it would need sharp, a native addon per architecture.
  images: { unoptimized: true },
  // Load a page's code when it is first asked for, not every route at start: under emulation
  // (and on a Pi's SD card) preloading all of them delays the wizard's first answer by seconds.
  experimental: { preloadEntriesOnStart: false },
  // The CLI and the server read these at run time; keep them out of the bundle.
  serverExternalPackages: ["better-sqlite3", "systeminformation"],
  // The custom server (scripts/server.ts) loads better-sqlite3 for migrations and node-pty for the
  // terminal outside the traced pages; the appliance needs only the SQLite query compiler and no
  // image optimizer.
  outputFileTracingIncludes: {
    "/*": [
      "./node_modules/better-sqlite3/package.json",
      "./node_modules/better-sqlite3/lib/**",
      "./node_modules/better-sqlite3/build/Release/better_sqlite3.node",
      "./node_modules/bindings/**",
      "./node_modules/file-uri-to-path/**",
      // The web terminal (scripts/server.ts in preview; freehold-agent on the appliance).
      "./node_modules/node-pty/package.json",
      "./node_modules/node-pty/lib/**/*.js",
      "./node_modules/node-pty/build/Release/pty.node",
      "./prisma/migrations/**",
      // Route handlers' runtime: Next's trace leaves it out under our custom server (it came along
      // only while an unscoped fs call traced the whole project; without it every API route 500s).
      "./node_modules/next/dist/compiled/next-server/app-route-turbo.runtime.prod.js",
    ],
  },
  outputFileTracingExcludes: {
    "/*": [
      // Never the repository's own build outputs, tests or benchmarks (an unscoped fs call once
      // made Turbopack trace the whole project, built disk images included).
      "./dist/**",
      "./test/**",
      "./bench/**",
      "./.git/**",
      "./node_modules/@img/**",
      "./node_modules/sharp/**",
      "./node_modules/@prisma/client/runtime/query_engine_bg.*",
      "./node_modules/@prisma/client/runtime/*{postgresql,mysql,cockroachdb,sqlserver}*",
    ],
  },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "no-referrer" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
        ],
      },
    ];
  },
};

export default nextConfig;
