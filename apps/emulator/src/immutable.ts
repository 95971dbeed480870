// Values that never change once made, such as the view of a cached row: frozen all the way down and remembered as
// such, so whoever answers with one may reuse its serialisation (http/router.ts) instead of redoing it per request.
const immutables = new WeakSet<object>();

/** Freezes `value` and everything in it, and marks it immutable. */
export function immutable<T extends object>(value: T): T {
  deepFreeze(value);
  immutables.add(value);
  return value;
}

/** Whether `value` was made by immutable(): then it and everything in it stay as they are. */
export function isImmutable(value: unknown): value is object {
  return typeof value === "object" && value !== null && immutables.has(value);
}

function deepFreeze(value: object): void {
  if (Object.isFrozen(value) && immutables.has(value)) return;
  for (const member of Object.values(value)) if (typeof member === "object" && member !== null) deepFreeze(member);
  Object.freeze(value);
}
