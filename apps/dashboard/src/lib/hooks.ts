// Loading data in a view: the result or the error, a reload, and a new load whenever the inputs change or the
// connection to the emulator comes back.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { HtcNetworkError } from "@htcemu/client";
import { connection, generation } from "../api/connection.js";
import { useStore } from "./store.js";

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again, keeping what is shown until the new answer arrives. */
  reload(): void;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const gen = useStore(generation);
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const call = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (call === latest.current) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (call !== latest.current) return;
        // The emulator went away: the banner says so, and everything loads again when it is back.
        if ((error instanceof HtcNetworkError || error instanceof TypeError) && connection.get() === "offline") return;
        setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  }, [...deps, gen, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Calls `fn` every `ms` while the component is shown (not at all for 0). */
export function useInterval(fn: () => void, ms: number): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (ms <= 0) return;
    const timer = setInterval(() => saved.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}
