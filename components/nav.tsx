"use client";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { signOut, useSession } from "@/lib/hooks/use-api";
import { LiveIndicator } from "./live-indicator";
import { ErrorAlert } from "./error-alert";
import { useAction } from "@/lib/hooks/use-action";

const LINKS = [
  { href: "/", label: "Console" },
  { href: "/overview", label: "Overview" },
  { href: "/history", label: "History" },
  { href: "/devices", label: "Devices" },
  { href: "/commands", label: "Commands" },
  { href: "/batches", label: "Batches" },
  { href: "/keys", label: "API keys", admin: true },
  { href: "/users", label: "Users", admin: true },
  { href: "/api-docs", label: "API" },
];

export function Nav() {
  const path = usePathname();
  const { data: session } = useSession();
  const user = session?.user ?? null;
  // API keys and users are an admin's: the others do not see those links (the API refuses them anyway).
  const links = LINKS.filter((l) => !("admin" in l) || session?.role === "admin");
  return (
    <header className="border-b border-zinc-200 dark:border-zinc-800">
      {/* Phones: the name and the status on one line, the links on the next; from md, one line. */}
      <nav aria-label="Main" className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
        <Link href="/" className="whitespace-nowrap font-semibold tracking-tight">
          rrpc-hub
        </Link>
        <ul className="order-last -mx-1 flex w-full gap-x-3 overflow-x-auto text-sm md:order-none md:mx-0 md:w-auto md:gap-x-4 md:overflow-visible">
          {links.map((l) => {
            const current = l.href === "/" ? path === "/" : path.startsWith(l.href);
            return (
              <li key={l.href}>
                <Link
                  href={l.href}
                  aria-current={current ? "page" : undefined}
                  className={`block whitespace-nowrap rounded px-1 py-0.5 focus-visible:outline-2 focus-visible:outline-sky-600 ${current ? "font-medium underline underline-offset-4" : "text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"}`}
                >
                  {l.label}
                </Link>
              </li>
            );
          })}
        </ul>
        <span className="ml-auto flex min-w-0 items-center gap-4">
          <LiveIndicator />
          {user && <SignOut user={user} role={session?.role ?? null} />}
        </span>
      </nav>
    </header>
  );
}

function SignOut({ user, role }: { user: string; role: string | null }) {
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
    <span className="flex min-w-0 items-center gap-2">
      <ErrorAlert error={problem} prefix="Sign out failed" className="text-xs" />
      {/* A long user name is cut short on screen; the button's name keeps all of it. */}
      <button
        type="button"
        disabled={busy}
        onClick={() => void run()}
        title={`Sign out ${user}${role ? ` (${role})` : ""}`}
        className="min-w-0 whitespace-nowrap text-sm text-zinc-600 underline hover:text-zinc-900 disabled:opacity-50 dark:text-zinc-400 dark:hover:text-zinc-100"
      >
        Sign out <span className="inline-block max-w-28 truncate align-bottom underline sm:max-w-48">{user}</span>
      </button>
    </span>
  );
}
