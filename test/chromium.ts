/**
 * Debian's Chromium, never a downloaded browser, for the e2e suite (playwright.config.ts) and the
 * VM wizard walk (test/vm/wizard-browser.ts). The flags keep it off the (closed) network.
 */
export const CHROMIUM_PATH = process.env.FREEHOLD_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
