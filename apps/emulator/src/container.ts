// Whether this emulator runs from the htcemu/emulator image. The image says so in HTCEMU_IMAGE (its reference);
// marker files such as /.dockerenv would also claim it inside development containers and CI machines that are
// containers themselves, where the advice "mount the socket" is wrong. Start-up messages read it to tell a
// container's user what to mount or set instead of what to install.

/** The variable the image sets to its own reference, e.g. `htcemu/emulator:0.1.0`. */
export const IMAGE_VARIABLE = "HTCEMU_IMAGE";

/** The image this process runs from, or undefined outside it. */
export function runningImage(environment: NodeJS.ProcessEnv = process.env): string | undefined {
  return environment[IMAGE_VARIABLE] || undefined;
}

/** This process's user id, for messages about files and sockets it may not use. */
export function processUid(): number | undefined {
  return process.getuid?.();
}
