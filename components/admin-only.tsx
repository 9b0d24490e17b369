/** What a page of an admin's shows to anyone else: a plain statement, not a 403 error. */
export function AdminOnly({ title, role, what }: { title: string; role: string; what: string }) {
  return (
    <section aria-labelledby="admin-only-title" className="space-y-2">
      <h1 id="admin-only-title" className="text-lg font-semibold">
        {title}
      </h1>
      <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="admin-only">
        Only admins {what}; your role is {role}.
      </p>
    </section>
  );
}
