import type { MetadataRoute } from "next";

/** The web app manifest (/manifest.webmanifest): the dashboard installs as an app of its own window. Icons: scripts/make-icons.ts. */
export default function manifest(): MetadataRoute.Manifest {
  return {
    name: "rrpc-hub — synchronous MQTT device calls",
    short_name: "rrpc-hub",
    description: "Call MQTT devices synchronously and watch every call live",
    start_url: "/",
    scope: "/",
    display: "standalone",
    theme_color: "#0369a1",
    background_color: "#ffffff",
    icons: [
      { src: "/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
      { src: "/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
      { src: "/icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
      { src: "/icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" },
    ],
  };
}
