import type { Release } from "../../_schemas/catalog";
import type { Host } from "../host";
import { ensureFile, unitIs } from "./common";
import { MOUNT_UNIT, MOUNTPOINT } from "./data-volume";
import { releasePrefix } from "./release-install";

/**
 * `ollama serve` as its own system user, listening on localhost only, with its models on the data
 * volume. GPUs: the official tarball carries the CUDA libraries, so an NVIDIA GPU with its driver
 * needs no change to the unit; the user joins `render` and `video` where they exist (as upstream's
 * install.sh does) for the device nodes.
 */

export const OLLAMA_USER = "ollama";
export const OLLAMA_UNIT = "ollama.service";
export const OLLAMA_UNIT_PATH = `/etc/systemd/system/${OLLAMA_UNIT}`;
export const OLLAMA_HOME = `${MOUNTPOINT}/ollama`;
export const OLLAMA_MODELS = `${OLLAMA_HOME}/models`;
export const OLLAMA_ADDRESS = "127.0.0.1:11434";
export const NVIDIA_DRIVER = "/proc/driver/nvidia/version";

export function renderOllamaUnit(release: Release): string {
  return [
    "# Written by freehold-agent (node.install ollama); edits are overwritten.",
    "[Unit]",
    `Description=Ollama ${release.version} (local language models)`,
    `Requires=${MOUNT_UNIT}`,
    `After=${MOUNT_UNIT} network-online.target`,
    "",
    "[Service]",
    `User=${OLLAMA_USER}`,
    `Group=${OLLAMA_USER}`,
    `ExecStart=${releasePrefix(release)}/bin/ollama serve`,
    `Environment=OLLAMA_HOST=${OLLAMA_ADDRESS}`,
    `Environment=OLLAMA_MODELS=${OLLAMA_MODELS}`,
    `Environment=HOME=${OLLAMA_HOME}`,
    "Restart=always",
    "RestartSec=3",
    "NoNewPrivileges=true",
    "ProtectSystem=strict",
    "ProtectHome=true",
    "PrivateTmp=true",
    `ReadWritePaths=${OLLAMA_HOME}`,
    "",
    "[Install]",
    `WantedBy=${MOUNT_UNIT}`,
    "",
  ].join("\n");
}

const USERADD = [
  "useradd",
  "--system",
  "--user-group",
  "--home-dir",
  OLLAMA_HOME,
  "--no-create-home",
  "--shell",
  "/usr/sbin/nologin",
  "--",
  OLLAMA_USER,
];

/** The user, the models directory, the unit, enabled and started. true when something changed. */
export async function ensureOllamaService(host: Host, release: Release): Promise<boolean> {
  let changed = false;
  const known = await host.run(["getent", "passwd", "--", OLLAMA_USER], { okCodes: [0, 2] });
  if (known.code !== 0) {
    await host.run(USERADD);
    changed = true;
  }
  for (const group of ["render", "video"]) {
    const exists = await host.run(["getent", "group", "--", group], { okCodes: [0, 2] });
    const members = exists.stdout.trim().split(":")[3]?.split(",") ?? [];
    if (exists.code === 0 && !members.includes(OLLAMA_USER)) {
      await host.run(["usermod", "-a", "-G", group, "--", OLLAMA_USER]);
      changed = true;
    }
  }
  await host.run(["install", "-d", "-o", OLLAMA_USER, "-g", OLLAMA_USER, "-m", "0750", "--", OLLAMA_HOME]);
  await host.run(["install", "-d", "-o", OLLAMA_USER, "-g", OLLAMA_USER, "-m", "0750", "--", OLLAMA_MODELS]);
  const unitChanged = await ensureFile(host, OLLAMA_UNIT_PATH, renderOllamaUnit(release), 0o644);
  if (unitChanged) await host.run(["systemctl", "daemon-reload"]);
  if (!(await unitIs(host, "is-enabled", [OLLAMA_UNIT]))) {
    await host.run(["systemctl", "enable", "--", OLLAMA_UNIT]);
    changed = true;
  }
  if (unitChanged) await host.run(["systemctl", "restart", "--", OLLAMA_UNIT]);
  else if (!(await unitIs(host, "is-active", [OLLAMA_UNIT]))) {
    await host.run(["systemctl", "start", "--", OLLAMA_UNIT]);
    changed = true;
  }
  return changed || unitChanged;
}

/** "nvidia" when the NVIDIA driver is loaded (Ollama then uses the GPU by itself), else null. */
export async function gpuNote(host: Host): Promise<string | null> {
  return (await host.exists(NVIDIA_DRIVER)) ? "nvidia" : null;
}
