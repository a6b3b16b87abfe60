import { createClient, type Client } from "graphql-ws";
import { parse, getOperationAST } from "graphql";
import type { Fetcher, FetcherParams, FetcherReturnType } from "@graphiql/toolkit";

const authHeaders = ["authorization", "hookline-owner"] as const;

/**
 * A GraphiQL fetcher for Hookline. Queries and mutations are POSTed to
 * /graphql with the headers from GraphiQL's Headers tab; a key typed in the
 * page's key field fills in Authorization when the tab has none. The
 * Authorization and Hookline-Owner values also go in the websocket's
 * connection_init payload, where subscriptions authenticate; the socket is
 * reopened when they change.
 */
export function hooklineFetcher(fallbackKey: () => string): Fetcher {
  const url = new URL("/graphql", location.href).toString();
  const wsURL = url.replace(/^http/, "ws");
  let ws: { client: Client; params: string } | undefined;

  const effectiveHeaders = (tab: Record<string, unknown> | undefined) => {
    const headers: Record<string, string> = {};
    const key = fallbackKey().trim();
    if (key) headers.Authorization = `Bearer ${key}`;
    for (const [name, value] of Object.entries(tab ?? {})) {
      if (value == null) continue;
      // "Bearer " with no key is a template left blank, not a key.
      if (name.toLowerCase() === authHeaders[0] && /^\s*bearer\s*$/i.test(String(value))) continue;
      // The tab wins over the key field, whatever the header's case.
      for (const h of Object.keys(headers)) {
        if (h.toLowerCase() === name.toLowerCase()) delete headers[h];
      }
      headers[name] = String(value);
    }
    return headers;
  };

  const socket = (headers: Record<string, string>) => {
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (lower === authHeaders[0]) params.Authorization = value;
      if (lower === authHeaders[1]) params["Hookline-Owner"] = value;
    }
    const id = JSON.stringify(params);
    if (ws?.params !== id) {
      ws?.client.dispose();
      ws = { client: createClient({ url: wsURL, connectionParams: params, lazy: true, retryAttempts: 2 }), params: id };
    }
    return ws.client;
  };

  return (params: FetcherParams, opts) => {
    const headers = effectiveHeaders(opts?.headers);
    // The query sent decides, not opts.documentAST: GraphiQL updates that
    // after a delay, so right after an edit it may be the previous query.
    let isSubscription = false;
    try {
      const op = getOperationAST(parse(params.query), params.operationName || undefined);
      isSubscription = op?.operation === "subscription";
    } catch {
      // A syntax error: let the server answer it.
    }
    if (isSubscription) {
      return socket(headers).iterate({
        query: params.query,
        operationName: params.operationName ?? undefined,
        variables: params.variables ?? undefined,
      }) as FetcherReturnType; // formatted errors, as GraphiQL shows them
    }
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(params),
    }).then((r) => r.json());
  };
}
