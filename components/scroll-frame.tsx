"use client";
import { useEffect, useRef, useState, type HTMLAttributes } from "react";

/**
 * A box that scrolls sideways on its own when what it holds is wider than it (a table on a
 * phone), so the page never does. While it scrolls it is a named region in the tab order, so it
 * can be scrolled from the keyboard (WCAG 2.1.1; axe's scrollable-region-focusable).
 */
export function ScrollFrame({ label, className = "", children, ...attrs }: { label: string } & HTMLAttributes<HTMLDivElement>) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const check = () => setScrolls(el.scrollWidth > el.clientWidth + 1);
    const watch = new ResizeObserver(check);
    watch.observe(el);
    if (el.firstElementChild) watch.observe(el.firstElementChild);
    return () => watch.disconnect();
  }, []);
  return (
    <div
      ref={ref}
      {...attrs}
      {...(scrolls ? { tabIndex: 0, role: "region", "aria-label": label } : {})}
      className={`relative max-w-full overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600 ${className}`}
    >
      {children}
    </div>
  );
}
