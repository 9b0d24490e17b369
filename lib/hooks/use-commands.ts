"use client";
/**
 * Saved commands (GET/POST /api/commands, GET/PUT/DELETE /api/commands/{id}) and running one as
 * a call (POST /api/calls with a commandId), as use-api.ts does for the other resources.
 */
import useSWR, { mutate } from "swr";
import { api, swrFetcher, type ApiClientError } from "./api-client";
import { KEYS } from "./use-api";
import type { Command, CommandCallRequest, CommandList, CommandRequest } from "../rrpc/api";
import type { CallJson } from "../rrpc/types";

export const COMMAND_KEYS = {
  commands: "/api/commands",
  command: (id: string) => `/api/commands/${encodeURIComponent(id)}`,
} as const;

export function useCommands() {
  return useSWR<CommandList, ApiClientError>(COMMAND_KEYS.commands, swrFetcher);
}

/** One command; `null` loads nothing. */
export function useCommand(id: string | null | undefined) {
  return useSWR<Command, ApiClientError>(id ? COMMAND_KEYS.command(id) : null, swrFetcher);
}

export async function createCommand(body: CommandRequest): Promise<Command> {
  const created = await api<Command>("POST", COMMAND_KEYS.commands, body);
  await mutate(COMMAND_KEYS.commands);
  return created;
}

export async function updateCommand(id: string, body: CommandRequest): Promise<Command> {
  const updated = await api<Command>("PUT", COMMAND_KEYS.command(id), body);
  await Promise.all([mutate(COMMAND_KEYS.commands), mutate(COMMAND_KEYS.command(id), updated, { revalidate: false })]);
  return updated;
}

export async function deleteCommand(id: string): Promise<void> {
  try {
    await api<void>("DELETE", COMMAND_KEYS.command(id));
  } finally {
    await mutate(COMMAND_KEYS.commands);
  }
}

/**
 * Runs a saved command on one device and waits for the outcome; like sendCall, a call that was
 * made but failed throws an ApiClientError carrying the call.
 */
export async function runCommand(body: CommandCallRequest): Promise<CallJson> {
  try {
    return await api<CallJson>("POST", "/api/calls", body);
  } finally {
    void mutate(KEYS.devices);
  }
}
