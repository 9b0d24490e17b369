"use client";
/**
 * The calls this tab made and is (or was) waiting for: each has its own clientRef, which the hub
 * echoes in the live feed, so its processId is known as soon as the hub allocates it, long
 * before the answer. Kept outside React: a call started on one page goes on when another opens.
 */
import { useSyncExternalStore } from "react";
import type { CallRequest } from "../rrpc/api";
import type { CallJson } from "../rrpc/types";
import { ABORTED, ApiClientError, errorMessage, NETWORK_ERROR } from "./api-client";
import { sendCall } from "./use-api";

export type LaunchOutcome = { call?: CallJson; error?: { code: string; message: string; fields?: { field: string; message: string }[] } };

export type Launch = {
  clientRef: string;
  productId: string;
  deviceName: string;
  timeoutMs: number;
  /** Epoch ms when the browser sent it: elapsed time and the deadline are counted from here. */
  sentAt: number;
  /** The answer, once it came (the call, the error, or both for a call that failed). */
  outcome?: LaunchOutcome;
  /** The operator stopped waiting: the call runs on at the hub and is recorded all the same. */
  cancelled: boolean;
};

/** Launches kept: in flight ones, and the last ones answered. */
const KEEP = 20;

function newClientRef(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "c-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

class Launcher {
  private list: readonly Launch[] = [];
  private readonly controllers = new Map<string, AbortController>();
  private readonly listeners = new Set<() => void>();

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };
  getSnapshot = () => this.list;

  private set(list: readonly Launch[]) {
    this.list = list;
    for (const l of this.listeners) l();
  }

  private update(clientRef: string, patch: Partial<Launch>) {
    this.set(this.list.map((x) => (x.clientRef === clientRef ? { ...x, ...patch } : x)));
  }

  /** Sends a call again: the same device, request bytes and timeout. */
  again(call: CallJson, defaultTimeoutMs: number): Launch {
    const { productId, deviceName, timeoutMs } = call;
    return this.launch({ productId, deviceName, payload: call.request.payloadBase64, encoding: "base64", timeoutMs }, defaultTimeoutMs);
  }

  /**
   * Sends the call. Calls already over (answered or given up) leave the list: the new call takes
   * their place; calls still in flight stay, each with its own card.
   */
  launch(req: Omit<CallRequest, "clientRef">, defaultTimeoutMs: number): Launch {
    const clientRef = newClientRef();
    const launch: Launch = {
      clientRef,
      productId: req.productId,
      deviceName: req.deviceName,
      timeoutMs: req.timeoutMs ?? defaultTimeoutMs,
      sentAt: Date.now(),
      cancelled: false,
    };
    const controller = new AbortController();
    this.controllers.set(clientRef, controller);
    this.set([launch, ...this.list.filter((x) => !x.outcome && !x.cancelled)].slice(0, KEEP));
    sendCall({ ...req, clientRef }, { signal: controller.signal })
      .finally(() => this.controllers.delete(clientRef))
      .then(
        (call) => this.update(clientRef, { outcome: { call } }),
        (e: unknown) => {
          if (e instanceof ApiClientError && e.code === ABORTED) return;
          // A failed call (timeout, offline…) still has its call: keep both.
          this.update(
            clientRef,
            e instanceof ApiClientError
              ? { outcome: { call: e.call, error: { code: e.code, message: e.message, fields: e.fields } } }
              : { outcome: { error: { code: NETWORK_ERROR, message: errorMessage(e) } } },
          );
        },
      );
    return launch;
  }

  /** Stops waiting for the answer; the hub still takes the call to its outcome and records it. */
  cancel(clientRef: string) {
    const l = this.list.find((x) => x.clientRef === clientRef);
    if (!l || l.outcome || l.cancelled) return;
    this.controllers.get(clientRef)?.abort();
    this.controllers.delete(clientRef);
    this.update(clientRef, { cancelled: true });
  }

  dismiss(clientRef: string) {
    this.cancel(clientRef);
    this.set(this.list.filter((x) => x.clientRef !== clientRef));
  }

  get(clientRef: string): Launch | undefined {
    return this.list.find((x) => x.clientRef === clientRef);
  }
}

/** This tab's launcher. */
export const launcher = new Launcher();

const NONE: readonly Launch[] = [];

/** The calls this tab launched, newest first. */
export function useLaunches(): readonly Launch[] {
  return useSyncExternalStore(launcher.subscribe, launcher.getSnapshot, () => NONE);
}
