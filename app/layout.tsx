import type { Metadata, Viewport } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: "rrpc-hub",
  description: "Call MQTT devices synchronously and watch every call live",
  applicationName: "rrpc-hub",
  // app/icon.svg is the page icon; the home-screen icon of iOS (scripts/make-icons.ts). The manifest link comes from app/manifest.ts.
  icons: { apple: [{ url: "/apple-touch-icon.png", sizes: "180x180", type: "image/png" }] },
  appleWebApp: { capable: true, title: "rrpc-hub", statusBarStyle: "default" },
};

/** The browser's chrome takes the page's own background: white in light mode, zinc-950 in dark. */
export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#09090b" },
  ],
  colorScheme: "light dark",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-white text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">{children}</body>
    </html>
  );
}
