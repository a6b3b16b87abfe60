import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError } from "@apollo/client";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition, relayStylePagination } from "@apollo/client/utilities";
import { createClient, type Client } from "graphql-ws";
import type { Session } from "./session";

/** The websocket's state, shown by the connection indicator. */
export type SocketState = "connecting" | "connected" | "reconnecting" | "closed";

/** Connection is one signed-in session's Apollo Client and websocket. */
export type Connection = {
  client: ApolloClient;
  ws: Client;
  state: () => SocketState;
  /** onState calls l on every state change; it returns the unsubscriber. */
  onState: (l: (s: SocketState, reconnected: boolean) => void) => () => void;
  dispose: () => void;
};

/** authHeaders are the headers of every request of session s: the one place auth lives. */
export function authHeaders(s: Session): Record<string, string> {
  const h: Record<string, string> = { Authorization: `Bearer ${s.key}` };
  if (s.owner) h["Hookline-Owner"] = s.owner;
  return h;
}

/** codeOf returns the extensions.code of the first GraphQL error in err, if any. */
export function codeOf(err: unknown): string | undefined {
  if (CombinedGraphQLErrors.is(err)) return err.errors[0]?.extensions?.code as string | undefined;
  if (ServerError.is(err)) {
    try {
      return JSON.parse(err.bodyText).errors?.[0]?.extensions?.code;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** messageOf returns the server's message in err, or err's own. */
export function messageOf(err: unknown): string {
  if (CombinedGraphQLErrors.is(err)) return err.errors.map((e) => e.message).join("; ");
  if (ServerError.is(err)) {
    try {
      const m = JSON.parse(err.bodyText).errors?.[0]?.message;
      if (m) return m;
    } catch {
      // Not JSON: fall through to the status.
    }
    return `${err.statusCode} ${err.message}`;
  }
  if (err instanceof Error) return err.message;
  if (err && typeof err === "object" && "reason" in err) return String((err as CloseEvent).reason);
  return String(err);
}

const connectionFields = ["filter"];

/**
 * connect builds the client for session s. Queries and mutations go over
 * HTTP, subscriptions over one websocket (graphql-transport-ws) that
 * reconnects by itself. signOut is called with the server's message when
 * the key is refused: a 401 over HTTP, UNAUTHENTICATED in a result, or the
 * websocket closed with 4403.
 */
export function connect(s: Session, signOut: (message: string) => void): Connection {
  const url = new URL("/graphql", location.href).toString();
  let state: SocketState = "connecting";
  let everConnected = false;
  let refused = false;
  const listeners = new Set<(s: SocketState, reconnected: boolean) => void>();
  const set = (next: SocketState, reconnected = false) => {
    state = next;
    listeners.forEach((l) => l(next, reconnected));
  };

  const ws = createClient({
    url: url.replace(/^http/, "ws"),
    connectionParams: () => authHeaders(s),
    // Opened by the first subscription (the shell keeps one), so a wrong
    // key is refused over HTTP before any socket opens.
    lazy: true,
    lazyCloseTimeout: 3_000,
    keepAlive: 20_000,
    retryAttempts: Infinity,
    shouldRetry: () => !refused,
    retryWait: async (retries) => {
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** retries, 15_000) * (0.5 + Math.random() / 2)));
    },
    on: {
      connecting: () => set(everConnected ? "reconnecting" : "connecting"),
      connected: () => {
        const again = everConnected;
        everConnected = true;
        set("connected", again);
      },
      closed: (ev) => {
        const e = ev as CloseEvent;
        if (e?.code === 4403) {
          refused = true;
          set("closed");
          signOut(e.reason || "the API key was refused");
          return;
        }
        set(refused ? "closed" : "reconnecting");
      },
    },
  });

  const errors = new ErrorLink(({ error }) => {
    const unauthenticated =
      (ServerError.is(error) && error.statusCode === 401) ||
      (CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED"));
    if (unauthenticated) signOut(messageOf(error));
  });
  const http = new HttpLink({ uri: url, headers: authHeaders(s) });
  const link = ApolloLink.from([
    errors,
    ApolloLink.split(
      ({ query }) => {
        const def = getMainDefinition(query);
        return def.kind === "OperationDefinition" && def.operation === "subscription";
      },
      new GraphQLWsLink(ws),
      http,
    ),
  ]);

  const client = new ApolloClient({
    link,
    // Views show what the cache has at once, then what the server says:
    // lists come back current after a mutation elsewhere.
    defaultOptions: { watchQuery: { fetchPolicy: "cache-and-network", nextFetchPolicy: "cache-first" } },
    cache: new InMemoryCache({
      typePolicies: {
        Query: {
          fields: {
            webhooks: relayStylePagination(connectionFields),
            deliveries: relayStylePagination(connectionFields),
            events: relayStylePagination(connectionFields),
            apiKeys: relayStylePagination(connectionFields),
            owners: relayStylePagination(connectionFields),
          },
        },
        Webhook: { fields: { deliveries: relayStylePagination(connectionFields) } },
        Event: { fields: { deliveries: relayStylePagination(connectionFields) } },
        // Headers have no ID; they belong to their parent.
        Header: { keyFields: false },
      },
    }),
  });

  return {
    client,
    ws,
    state: () => state,
    onState: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    dispose: () => {
      refused = true;
      client.stop();
      // dispose rejects when the socket was refused while connecting.
      Promise.resolve(ws.dispose()).catch(() => {});
    },
  };
}
