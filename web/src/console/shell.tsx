import { useEffect, useState } from "react";
import { useQuery } from "@apollo/client/react";
import { graphql } from "../gql";
import type { Connection, SocketState } from "./client";

const OwnersQuery = graphql(`
  query Owners($after: String) {
    owners(first: 100, after: $after) {
      edges {
        cursor
        node {
          name
          webhookCount
          unhealthyWebhookCount
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      totalCount
    }
  }
`);

/** useSocketState follows the session's websocket. */
export function useSocketState(conn: Connection): SocketState {
  const [state, setState] = useState(conn.state());
  useEffect(() => conn.onState((s) => setState(s)), [conn]);
  return state;
}

const labels: Record<SocketState, string> = {
  connecting: "Connecting",
  connected: "Connected",
  reconnecting: "Reconnecting",
  closed: "Disconnected",
};

/** ConnectionIndicator shows whether live updates are flowing. */
export function ConnectionIndicator({ conn }: { conn: Connection }) {
  const state = useSocketState(conn);
  return (
    <span className={`conn conn-${state}`} role="status" aria-live="polite" title="Live updates (websocket)">
      <span className="dot" aria-hidden="true" />
      {labels[state]}
    </span>
  );
}

/** OwnerSwitcher lets an admin act as any owner (the Hookline-Owner header). */
export function OwnerSwitcher({ current, own, onChange }: { current: string; own: string; onChange: (o: string) => void }) {
  const { data, fetchMore, refetch } = useQuery(OwnersQuery);
  const conn = data?.owners;
  const names = new Set([own, current, ...(conn?.edges.map((e) => e.node.name) ?? [])]);
  return (
    <span className="owner-switch">
      <label htmlFor="owner-switch">Owner</label>
      <select id="owner-switch" value={current} onFocus={() => refetch()} onChange={(e) => onChange(e.target.value)}>
        {[...names].sort().map((n) => (
          <option key={n} value={n}>
            {n}
            {n === own ? " (own)" : ""}
          </option>
        ))}
      </select>
      {conn?.pageInfo.hasNextPage && (
        <button type="button" onClick={() => fetchMore({ variables: { after: conn.pageInfo.endCursor } })}>
          More owners
        </button>
      )}
    </span>
  );
}
