import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BOX_LAYOUT } from "../../../app/agent/ops/backup-common";
import { VOLUME_RECORD } from "../../../app/agent/ops/data-volume";
import { CANDIDATE, MARKER, ROLLBACK_FILE } from "../../../app/agent/ops/firewall-rollback";
import { HEADER_BACKUP } from "../../../app/agent/ops/luks";
import { NODE_STATE_DIR } from "../../../app/agent/ops/node-install";
import { FORMATTING } from "../../../app/agent/ops/volume-encrypt";
import { AGENT_RUNTIME_DIR, AGENT_STATE_DIR } from "../../../app/agent/paths";
import { RealHost } from "../../../app/agent/real-host";
import { OWNER_FILE } from "../../../app/agent/terminal";

describe("the agent's state", () => {
  it("lives in root's own directory, never where the web app's user can write", () => {
    const paths = [
      VOLUME_RECORD,
      HEADER_BACKUP,
      FORMATTING,
      CANDIDATE,
      MARKER,
      ROLLBACK_FILE,
      NODE_STATE_DIR,
      OWNER_FILE,
      BOX_LAYOUT.stateDir,
    ];
    for (const p of paths) expect(p.startsWith(`${AGENT_STATE_DIR}/`), p).toBe(true);
    const tmpfiles = readFileSync("overlays/common/usr/lib/tmpfiles.d/freehold.conf", "utf8");
    expect(tmpfiles).toMatch(new RegExp(`^d ${AGENT_STATE_DIR} 0700 root root -$`, "m"));
    // The web unit may write only its own directory.
    const web = readFileSync("overlays/common/usr/lib/systemd/system/freehold-web.service", "utf8");
    expect(web).toMatch(/^StateDirectory=freehold$/m);
    expect(web).toMatch(/^ProtectSystem=strict$/m);
    expect(web).not.toMatch(/^(ReadWritePaths|StateDirectory)=.*freehold-agent/m);
  });

  it("serves secrets from its own runtime directory, apart from the web app's /run/freehold", () => {
    expect(AGENT_RUNTIME_DIR).toMatch(/^\/run\/[a-z-]+$/);
    expect(`${AGENT_RUNTIME_DIR}/`.startsWith("/run/freehold/")).toBe(false);
    // RealHost's secret sockets go there unless a test hands it a temp dir.
    expect((new RealHost() as unknown as { runtimeDir: string }).runtimeDir).toBe(AGENT_RUNTIME_DIR);
    const web = readFileSync("overlays/common/usr/lib/systemd/system/freehold-web.service", "utf8");
    expect(web).not.toContain(AGENT_RUNTIME_DIR);
  });
});
