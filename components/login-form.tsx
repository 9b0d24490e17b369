"use client";
import { useRouter } from "next/navigation";
import { ApiClientError, safeNext } from "@/lib/hooks/api-client";
import { signIn } from "@/lib/hooks/use-api";
import { useAction } from "@/lib/hooks/use-action";
import { ErrorAlert } from "./error-alert";
import { LabeledInput } from "./labeled-input";

/** A throttled sign-in (429) said plainly, with the wait the hub asked for. */
function throttled(problem: unknown): Error | null {
  if (!(problem instanceof ApiClientError) || problem.status !== 429) return null;
  const wait = problem.retryAfterS;
  return new Error(`Too many failed sign-ins; try again in ${wait === null ? "a moment" : `${Math.max(1, Math.ceil(wait))} s`}`);
}

export function LoginForm() {
  const router = useRouter();
  const {
    run,
    busy,
    error: problem,
  } = useAction(async (form: FormData) => {
    await signIn(String(form.get("user") ?? ""), String(form.get("password") ?? ""));
    // Back to the page that sent us here (?next=/history?…), if it is one of this site's.
    router.replace(safeNext(new URLSearchParams(window.location.search).get("next"), window.location.origin));
    router.refresh();
  });
  return (
    <form
      aria-label="Sign in"
      className="space-y-3"
      onSubmit={async (e) => {
        e.preventDefault();
        await run(new FormData(e.currentTarget));
      }}
    >
      <LabeledInput
        label="User"
        large
        name="user"
        autoComplete="username"
        required
        defaultValue="admin"
        className="w-full rounded border border-zinc-300 bg-white px-2 py-1.5 dark:border-zinc-700 dark:bg-zinc-900"
      />
      <LabeledInput
        label="Password"
        large
        name="password"
        type="password"
        autoComplete="current-password"
        required
        className="w-full rounded border border-zinc-300 bg-white px-2 py-1.5 dark:border-zinc-700 dark:bg-zinc-900"
      />
      <ErrorAlert error={throttled(problem) ?? problem} />
      <button
        type="submit"
        disabled={busy}
        className="w-full rounded bg-sky-700 px-4 py-2 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-50"
      >
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
