import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { Nav } from "@/components/nav";
import { Providers } from "@/components/providers";
import { session } from "@/lib/server/http/api";
import { SESSION_COOKIE } from "@/lib/server/auth/request-auth";

export const dynamic = "force-dynamic";

/** Every dashboard page: signed-in operators only, when sign-in is on. */
export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const s = await session((await cookies()).get(SESSION_COOKIE)?.value ?? null);
  if (s.required && !s.user) redirect("/login");
  return (
    <Providers>
      <Nav user={s.user} />
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </Providers>
  );
}
