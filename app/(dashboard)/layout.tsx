import { Nav } from "@/components/nav";
import { Providers } from "@/components/providers";

/**
 * Every dashboard page. Signing in is enforced outside it: the server sends a page request
 * without a session to /login?next=<path>, and the browser's API client does the same when an
 * answer says 401 `unauthorized` (the session expired, the server restarted…).
 */
export default function DashboardLayout({ children }: { children: React.ReactNode }) {
  return (
    <Providers>
      <Nav />
      <main className="mx-auto max-w-7xl min-w-0 px-4 py-6">{children}</main>
    </Providers>
  );
}
