import { LoginForm } from "@/components/login-form";

export const metadata = { title: "Sign in · rrpc-hub" };

export default function LoginPage() {
  return (
    <main className="mx-auto mt-24 max-w-sm px-4">
      <h1 className="mb-4 text-xl font-semibold">Sign in to rrpc-hub</h1>
      <LoginForm />
    </main>
  );
}
