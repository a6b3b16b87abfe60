import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { ApolloProvider, useQuery, useSubscription } from "@apollo/client/react";
import { graphql } from "../gql";
import { connect, messageOf, type Connection } from "./client";
import { keyFromFragment, load, save, type Session } from "./session";
import { Link, match, navigate, useLocation } from "./router";
import { SignIn } from "./views/SignIn";
import { ConnectionIndicator, OwnerSwitcher } from "./shell";
import { routes, type Caller } from "./routes";

const MeQuery = graphql(`
  query Me {
    me {
      id
      owner
      name
      role
      expiresAt
    }
  }
`);

const WebhookChanges = graphql(`
  subscription WebhookChanges {
    webhookUpdated {
      id
      url
      enabled
      health
      disabledReason
      consecutiveFailures
      lastDeliveryAt
      updatedAt
    }
  }
`);

/** App signs in and out and holds the session's connection. */
export function App() {
  const [session, setSession] = useState<Session | null>(() => {
    const shared = keyFromFragment();
    if (shared) {
      const s = { key: shared, owner: "" };
      save(s);
      return s;
    }
    return load();
  });
  const [notice, setNotice] = useState("");

  const signOut = useCallback((message: string) => {
    save(null);
    setSession(null);
    setNotice(message);
  }, []);
  const signIn = useCallback((key: string) => {
    const s = { key, owner: "" };
    save(s);
    setNotice("");
    setSession(s);
  }, []);
  const setOwner = useCallback((owner: string) => {
    setSession((s) => {
      if (!s) return s;
      const next = { ...s, owner };
      save(next);
      return next;
    });
  }, []);

  // One connection per key and owner; a new owner gets a fresh cache and socket.
  const signOutRef = useRef(signOut);
  signOutRef.current = signOut;
  const conn = useMemo<Connection | null>(
    () => (session ? connect(session, (m) => signOutRef.current(m)) : null),
    [session],
  );
  useEffect(() => () => conn?.dispose(), [conn]);

  if (!session || !conn) return <SignIn onSignIn={signIn} notice={notice} />;
  return (
    <ApolloProvider client={conn.client}>
      <Shell conn={conn} session={session} setOwner={setOwner} signOut={signOut} />
    </ApolloProvider>
  );
}

const nav: { to: string; label: string; admin?: boolean }[] = [
  { to: "/webhooks", label: "Webhooks" },
  { to: "/live", label: "Live" },
  { to: "/deliveries", label: "Deliveries" },
  { to: "/events", label: "Events" },
  { to: "/keys", label: "API keys", admin: true },
];

function Shell({
  conn,
  session,
  setOwner,
  signOut,
}: {
  conn: Connection;
  session: Session;
  setOwner: (o: string) => void;
  signOut: (m: string) => void;
}) {
  const { data, error } = useQuery(MeQuery);
  // Keeps the webhooks in the cache current (health, disabling) and the
  // socket open, so a revoked key signs the console out at once.
  useSubscription(WebhookChanges, { skip: !data });
  const { path } = useLocation();
  const mainRef = useRef<HTMLElement>(null);

  useEffect(() => {
    if (path === "/") navigate("/webhooks", true);
  }, [path]);
  // Focus the new view's heading on navigation, for keyboards and screen readers.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.querySelector<HTMLElement>("h1")?.focus();
  }, [path]);

  if (error) {
    return (
      <div className="centered" role="alert">
        <p>{messageOf(error)}</p>
        <button onClick={() => signOut("")}>Sign out</button>
      </div>
    );
  }
  if (!data) return <p className="centered" role="status">Signing in…</p>;

  const caller: Caller = { ...data.me, actingAs: session.owner || data.me.owner, isAdmin: data.me.role === "ADMIN" };
  let view: ReactNode = <NotFound />;
  for (const r of routes) {
    const params = match(r.path, path);
    if (params && (!r.admin || caller.isAdmin)) {
      view = r.render(params, caller, conn);
      break;
    }
  }

  return (
    <div className="layout">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/webhooks" className="brand">
          Hookline
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav
              .filter((n) => !n.admin || caller.isAdmin)
              .map((n) => (
                <li key={n.to}>
                  <Link to={n.to} aria-current={path === n.to || path.startsWith(n.to + "/") ? "page" : undefined}>
                    {n.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
        <div className="who">
          <ConnectionIndicator conn={conn} />
          {caller.isAdmin ? (
            <OwnerSwitcher current={caller.actingAs} own={data.me.owner} onChange={(o) => setOwner(o === data.me.owner ? "" : o)} />
          ) : (
            <span className="owner-name" title="Owner">
              {caller.owner}
            </span>
          )}
          <a href="/graphiql">GraphiQL</a>
          <button type="button" onClick={() => signOut("Signed out.")}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={mainRef} key={session.owner}>
        {view}
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <>
      <h1 tabIndex={-1}>Not found</h1>
      <p>
        Nothing lives at this address. <Link to="/webhooks">Go to Webhooks</Link>.
      </p>
    </>
  );
}
