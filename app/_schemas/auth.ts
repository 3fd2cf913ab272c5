import { z } from "zod";

/** Request bodies of the claim, login and account route handlers. */

/** Unix account names the owner may not take (system users on a Debian box and ours). */
export const RESERVED_USERNAMES = new Set([
  "root",
  "daemon",
  "bin",
  "sys",
  "sync",
  "games",
  "man",
  "lp",
  "mail",
  "news",
  "uucp",
  "proxy",
  "www-data",
  "backup",
  "list",
  "irc",
  "gnats",
  "nobody",
  "systemd-network",
  "systemd-resolve",
  "systemd-timesync",
  "messagebus",
  "sshd",
  "_apt",
  "polkitd",
  "avahi",
  "freehold",
  "admin",
  "operator",
  "postfix",
  "ntp",
  "tss",
  "dnsmasq",
  "debian",
  "pi",
  "ubuntu",
]);

export const UsernameSchema = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_-]{1,30}$/, "2 to 31 lower-case letters, digits, - or _, starting with a letter")
  .refine((name) => !RESERVED_USERNAMES.has(name), "this name is taken by the system");

/** A password field: bounded before it reaches scrypt; the policy (passwordProblems) is checked separately. */
export const PasswordFieldSchema = z.string().min(1, "required").max(1024, "too long");

const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

/** One OpenSSH public key line; the key type inside the base64 blob must match the named one. */
export const SshPublicKeySchema = z
  .string()
  .trim()
  .max(8192, "too long for a public key")
  .refine((line) => {
    const m = /^([a-z0-9@.-]+) ([A-Za-z0-9+/]+={0,3})(?: ([^\r\n\0]{0,200}))?$/.exec(line);
    if (!m || !(SSH_KEY_TYPES as readonly string[]).includes(m[1] ?? "")) return false;
    const blob = Buffer.from(m[2] ?? "", "base64");
    if (blob.length < 4) return false;
    const length = blob.readUInt32BE(0);
    return blob.subarray(4, 4 + length).toString("latin1") === m[1];
  }, "not an OpenSSH public key (ssh-ed25519 AAAA... comment)");

export const ClaimSchema = z.strictObject({
  code: z.string().min(1, "required").max(64, "too long"),
  username: UsernameSchema,
  password: PasswordFieldSchema,
  passwordConfirm: PasswordFieldSchema,
  sshPublicKey: z.union([z.literal(""), SshPublicKeySchema]).optional(),
});

export const LoginSchema = z.strictObject({
  username: z.string().trim().min(1, "required").max(64),
  password: PasswordFieldSchema,
  totp: z.union([z.literal(""), z.string().regex(/^\d{6}$/, "six digits")]).optional(),
});

export const TotpConfirmSchema = z.strictObject({
  code: z.string().regex(/^\d{6}$/, "six digits"),
});

export const TotpDisableSchema = z.strictObject({
  password: PasswordFieldSchema,
});

export type ClaimInput = z.infer<typeof ClaimSchema>;
export type LoginInput = z.infer<typeof LoginSchema>;
