import { useState, type FormEvent } from "react";

/** SignIn asks for an API key; notice is why the last session ended. */
export function SignIn({ onSignIn, notice }: { onSignIn: (key: string) => void; notice: string }) {
  const [key, setKey] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (key.trim()) onSignIn(key.trim());
  };
  return (
    <main className="signin" id="main">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Hookline</h1>
        <p>Sign in with an API key. It stays in this tab only and is sent with every request.</p>
        {notice && (
          <p className="error" role="alert">
            {notice}
          </p>
        )}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          autoFocus
          placeholder="hkl_…"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
        />
        <button type="submit">Sign in</button>
        <p className="hint">
          The admin key is printed on the server's first start. <a href="/graphiql">GraphiQL</a> is at /graphiql.
        </p>
      </form>
    </main>
  );
}
