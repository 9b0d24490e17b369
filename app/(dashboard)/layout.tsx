import { Nav } from "@/components/nav";
import { Providers } from "@/components/providers";

/** Every dashboard page. Sign-in, when on, is checked by the server before a page is served. */
export default function DashboardLayout({ children }: { children: React.ReactNode }) {
  return (
    <Providers>
      <Nav user={null} />
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </Providers>
  );
}
