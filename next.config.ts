import type { NextConfig } from "next";

const isDev = process.env.NODE_ENV !== "production";

// Baseline headers for every response; the wizard issue tightens the CSP with nonces.
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${isDev ? " 'unsafe-eval'" : ""}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const nextConfig: NextConfig = {
  output: "standalone",
  poweredByHeader: false,
  // The CLI and the server read these at run time; keep them out of the bundle.
  serverExternalPackages: ["better-sqlite3", "systeminformation"],
  // The custom server (scripts/server.ts) loads better-sqlite3 for migrations outside the traced
  // pages; the appliance needs only the SQLite query compiler and no image optimizer.
  outputFileTracingIncludes: {
    "/*": [
      "./node_modules/better-sqlite3/package.json",
      "./node_modules/better-sqlite3/lib/**",
      "./node_modules/better-sqlite3/build/Release/better_sqlite3.node",
      "./node_modules/bindings/**",
      "./node_modules/file-uri-to-path/**",
      "./prisma/migrations/**",
    ],
  },
  outputFileTracingExcludes: {
    "/*": [
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
          { key: "Content-Security-Policy", value: contentSecurityPolicy },
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
