import type { Metadata } from "next";
import type { ReactNode } from "react";
import "./globals.css";

// Every page is rendered per request: the CSP nonce (scripts/server.ts) must reach each script tag,
// and every page depends on the box's state.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "Freehold",
  description: "Your own server, set up in your browser.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
