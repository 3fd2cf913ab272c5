#!/usr/bin/node
// Apply settings pre-seeded on the boot partition by `freehold flash` (or by hand), then remove
// each file from the boot partition. Safe to re-run: each setting is written (temp file, rename)
// before its source file is removed, so a power cut only means it is applied again.
//   freehold-setup-code.txt  XXXX-XXXX-XXXX-XXXX      → /var/lib/freehold/setup-code
//   freehold-hostname.txt    a DNS label              → /etc/hostname, /etc/hosts
//   freehold-wifi.json       {"ssid": "...", "psk": "..."} → wpa_supplicant-<wlan>.conf
//   freehold-authorized_keys OpenSSH public keys      → /root/.ssh/authorized_keys (+ a copy for the wizard)
import { execFileSync } from "node:child_process";
import { pbkdf2Sync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const image = JSON.parse(fs.readFileSync("/etc/freehold/image.json", "utf8"));
const boot = image.bootMount;
const log = (m) => console.log(`freehold-preseed: ${m}`);

function writeAtomic(file, data, mode, uid = 0, gid = 0) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.preseed-${process.pid}`;
  const fd = fs.openSync(tmp, "w", mode);
  fs.writeSync(fd, data);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.chownSync(tmp, uid, gid);
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}
function consume(name) {
  const file = path.join(boot, name);
  if (!fs.existsSync(file)) return null;
  return { file, text: fs.readFileSync(file, "utf8") };
}
function done(file) {
  fs.rmSync(file, { force: true });
  execFileSync("sync", ["-f", boot]);
}
function gid(group) {
  const line = fs
    .readFileSync("/etc/group", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${group}:`));
  return line ? Number(line.split(":")[2]) : 0;
}

const mounted = () =>
  fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[1] === boot);
if (boot && !mounted()) {
  // e.g. unmounted when the partition table changed under it: mount it from fstab again
  try {
    const unit = execFileSync("systemd-escape", ["--path", "--suffix=mount", boot], {
      encoding: "utf8",
    }).trim();
    execFileSync("systemctl", ["start", unit]);
  } catch (e) {
    log(`cannot mount ${boot}: ${e.message}`);
  }
}
if (!boot || !mounted()) {
  log(`boot partition not mounted at ${boot}; nothing to do`);
  process.exit(0);
}

// Setup code (ignored once the box is claimed).
const code = consume("freehold-setup-code.txt");
if (code) {
  const value = code.text.trim().toUpperCase();
  if (fs.existsSync("/var/lib/freehold/claimed")) log("box already claimed; pre-seeded setup code ignored");
  else if (/^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/.test(value)) {
    writeAtomic("/var/lib/freehold/setup-code", `${value}\n`, 0o640, 0, gid("freehold"));
    log("setup code taken from the boot partition");
  } else log("freehold-setup-code.txt is not XXXX-XXXX-XXXX-XXXX (letters without I/O, digits 2-9); ignored");
  done(code.file);
}

// Hostname.
const host = consume("freehold-hostname.txt");
if (host) {
  const name = host.text.trim().toLowerCase();
  if (/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    writeAtomic("/etc/hostname", `${name}\n`, 0o644);
    const hosts = fs
      .readFileSync("/etc/hosts", "utf8")
      .split("\n")
      .filter((l) => !l.startsWith("127.0.1.1"));
    hosts.splice(1, 0, `127.0.1.1\t${name}`);
    writeAtomic("/etc/hosts", hosts.join("\n"), 0o644);
    execFileSync("hostname", [name]);
    // a certificate made for the old name no longer fits
    for (const f of ["/etc/freehold/tls/cert.pem"]) fs.rmSync(f, { force: true });
    log(`hostname set to ${name}`);
  } else log("freehold-hostname.txt is not a valid host name; ignored");
  done(host.file);
}

// Wi-Fi: wpa_supplicant@<wlan> with the PSK derived here (the passphrase is not stored).
const wifi = consume("freehold-wifi.json");
if (wifi) {
  try {
    const { ssid, psk } = JSON.parse(wifi.text);
    if (typeof ssid !== "string" || ssid.length < 1 || Buffer.byteLength(ssid) > 32)
      throw new Error("bad ssid");
    if (typeof psk !== "string" || psk.length < 8 || psk.length > 63)
      throw new Error("psk must be 8..63 characters");
    const key = pbkdf2Sync(psk, ssid, 4096, 32, "sha1").toString("hex");
    const conf = [
      "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev",
      "update_config=0",
      "network={",
      `\tssid=${Buffer.from(ssid).toString("hex")}`,
      `\tpsk=${key}`,
      "\tkey_mgmt=WPA-PSK SAE",
      "\tieee80211w=1",
      "}",
      "",
    ].join("\n");
    try {
      execFileSync("udevadm", ["settle", "--timeout=15"]);
    } catch {}
    const wlans = fs
      .readdirSync("/sys/class/net")
      .filter((n) => fs.existsSync(`/sys/class/net/${n}/wireless`));
    writeAtomic("/etc/freehold/wifi.conf", conf, 0o600);
    for (const w of wlans) {
      writeAtomic(`/etc/wpa_supplicant/wpa_supplicant-${w}.conf`, conf, 0o600);
      execFileSync("systemctl", ["enable", "--no-block", "--now", `wpa_supplicant@${w}.service`]);
      log(`Wi-Fi configured on ${w}`);
    }
    if (wlans.length === 0) log("no Wi-Fi interface found; settings kept in /etc/freehold/wifi.conf");
  } catch (e) {
    log(`freehold-wifi.json ignored: ${e.message}`);
  }
  done(wifi.file);
}

// SSH public keys: root login with these keys, and a copy for the wizard's owner account.
const keys = consume("freehold-authorized_keys");
if (keys) {
  const good = keys.text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) =>
      /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/.test(
        l,
      ),
    );
  if (good.length) {
    const file = "/root/.ssh/authorized_keys";
    fs.mkdirSync("/root/.ssh", { recursive: true, mode: 0o700 });
    const have = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
    const merged = [...have, ...good.filter((k) => !have.includes(k))];
    writeAtomic(file, `${merged.join("\n")}\n`, 0o600);
    writeAtomic(
      "/var/lib/freehold/preseed/authorized_keys",
      `${good.join("\n")}\n`,
      0o640,
      0,
      gid("freehold"),
    );
    log(`${good.length} SSH key(s) installed for root`);
  } else log("freehold-authorized_keys holds no valid public key; ignored");
  done(keys.file);
}
