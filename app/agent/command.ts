import type { SecretName } from "../_schemas/ops";

/**
 * One step of an operation as the owner sees it in the plan preview: a command (argv array, secrets
 * named, never their values) or a file written atomically. Each agent op renders the list of its
 * apply path on a fresh machine from the same argv builders it runs, so preview and agent agree.
 */
export interface Command {
  argv: string[];
  /**
   * What goes to the command's stdin: a plan secret by name (never its value), several secrets one
   * per line (cryptsetup luksAddKey: the existing key, then the new one), or literal text.
   */
  stdin?: { secret: SecretName } | { lines: SecretName[] } | { text: string };
  /** A second secret on an inherited pipe (file descriptor 3), for tools that need two keys. */
  fd3?: { secret: SecretName };
  /** A file the op writes (temp file + rename) instead of running something. */
  writes?: { path: string; mode: string; content: string };
}

export const runs = (argv: string[], extra: Omit<Command, "argv"> = {}): Command => ({ argv, ...extra });

export const writes = (path: string, mode: number, content: string): Command => ({
  argv: [],
  writes: { path, mode: `0${mode.toString(8)}`, content },
});
