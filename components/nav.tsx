"use client";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { signOut, useSession } from "@/lib/hooks/use-api";
import { LiveIndicator } from "./live-indicator";
import { ErrorAlert } from "./error-alert";
import { useAction } from "@/lib/hooks/use-action";

const LINKS = [
  { href: "/", label: "Console" },
  { href: "/history", label: "History" },
  { href: "/devices", label: "Devices" },
  { href: "/commands", label: "Commands" },
  { href: "/batches", label: "Batches" },
  { href: "/keys", label: "API keys" },
];

export function Nav() {
  const path = usePathname();
  const { data: session } = useSession();
  const user = session?.user ?? null;
  return (
    <header className="border-b border-zinc-200 dark:border-zinc-800">
      <nav aria-label="Main" className="mx-auto flex max-w-7xl items-center gap-6 px-4 py-3">
        <Link href="/" className="font-semibold tracking-tight">
          rrpc-hub
        </Link>
        <ul className="flex gap-4 text-sm">
          {LINKS.map((l) => {
            const current = l.href === "/" ? path === "/" : path.startsWith(l.href);
            return (
              <li key={l.href}>
                <Link
                  href={l.href}
                  aria-current={current ? "page" : undefined}
                  className={`rounded px-1 py-0.5 focus-visible:outline-2 focus-visible:outline-sky-600 ${current ? "font-medium underline underline-offset-4" : "text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"}`}
                >
                  {l.label}
                </Link>
              </li>
            );
          })}
        </ul>
        <span className="ml-auto flex items-center gap-4">
          <LiveIndicator />
          {user && <SignOut user={user} />}
        </span>
      </nav>
    </header>
  );
}

function SignOut({ user }: { user: string }) {
  const router = useRouter();
  const {
    run,
    busy,
    error: problem,
  } = useAction(async () => {
    await signOut();
    router.replace("/login");
  });
  return (
    <span className="flex items-center gap-2">
      <ErrorAlert error={problem} prefix="Sign out failed" className="text-xs" />
      <button
        type="button"
        disabled={busy}
        onClick={() => void run()}
        className="text-sm text-zinc-600 underline hover:text-zinc-900 disabled:opacity-50 dark:text-zinc-400 dark:hover:text-zinc-100"
      >
        Sign out {user}
      </button>
    </span>
  );
}
