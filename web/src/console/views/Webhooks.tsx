import { useState, type FormEvent } from "react";
import { useQuery } from "@apollo/client/react";
import { graphql } from "../../gql";
import type { HealthStatus, WebhookFilter } from "../../gql/graphql";
import { Link, navigate, useLocation } from "../router";
import { Badge, ErrorMessage, LoadMore, When } from "../ui";

export const WebhookRowFields = graphql(`
  fragment WebhookRow on Webhook {
    id
    url
    description
    events
    format
    enabled
    health
    disabledReason
    consecutiveFailures
    lastDeliveryAt
    warnings
  }
`);

const WebhooksQuery = graphql(`
  query Webhooks($first: Int, $after: String, $filter: WebhookFilter) {
    webhooks(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          ...WebhookRow
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

export function HealthBadge({ health }: { health: HealthStatus }) {
  return <Badge kind={health}>{health.toLowerCase()}</Badge>;
}

/** filterFromQuery reads the list's filters from the address, so they survive reloads and links. */
function filterFromQuery(q: URLSearchParams): WebhookFilter {
  const f: WebhookFilter = {};
  if (q.get("event")) f.event = q.get("event");
  if (q.get("health")) f.health = q.get("health") as HealthStatus;
  if (q.get("enabled")) f.enabled = q.get("enabled") === "true";
  if (q.get("url")) f.urlContains = q.get("url");
  return f;
}

export function Webhooks() {
  const { query } = useLocation();
  const filter = filterFromQuery(query);
  const { data, loading, error, fetchMore } = useQuery(WebhooksQuery, {
    variables: { first: 20, filter },
    notifyOnNetworkStatusChange: true,
  });
  const conn = data?.webhooks;

  return (
    <>
      <div className="title-row">
        <h1 tabIndex={-1}>Webhooks</h1>
        <Link to="/webhooks/new" className="button primary">
          New webhook
        </Link>
      </div>
      <WebhookFilters initial={query} />
      <ErrorMessage error={error} />
      <div className="table-wrap">
        <table className="list">
          <caption className="sr-only">Webhooks, newest first</caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Format</th>
              <th scope="col">Health</th>
              <th scope="col">Enabled</th>
              <th scope="col">Failures</th>
              <th scope="col">Last delivery</th>
            </tr>
          </thead>
          <tbody>
            {conn?.edges.map(({ node: w }) => (
              <tr key={w.id}>
                <td className="url">
                  <Link to={`/webhooks/${encodeURIComponent(w.id)}`}>{w.url}</Link>
                  {w.description && <div className="muted">{w.description}</div>}
                  {w.warnings.map((m) => (
                    <div key={m} className="warn">
                      {m}
                    </div>
                  ))}
                </td>
                <td>{w.events.join(", ")}</td>
                <td>{w.format}</td>
                <td>
                  <HealthBadge health={w.health} />
                </td>
                <td>{w.enabled ? "yes" : <span title={w.disabledReason ?? undefined}>no</span>}</td>
                <td className="num">{w.consecutiveFailures}</td>
                <td>
                  <When value={w.lastDeliveryAt} empty="never" />
                </td>
              </tr>
            ))}
            {conn && conn.edges.length === 0 && (
              <tr>
                <td colSpan={7}>No webhooks{Object.keys(filter).length ? " match these filters" : " yet"}.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <LoadMore
        pageInfo={conn?.pageInfo}
        loading={loading}
        shown={conn?.edges.length ?? 0}
        total={conn?.totalCount}
        onMore={(after) => fetchMore({ variables: { after } })}
      />
    </>
  );
}

function WebhookFilters({ initial }: { initial: URLSearchParams }) {
  const [event, setEvent] = useState(initial.get("event") ?? "");
  const [health, setHealth] = useState(initial.get("health") ?? "");
  const [enabled, setEnabled] = useState(initial.get("enabled") ?? "");
  const [url, setURL] = useState(initial.get("url") ?? "");
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (event.trim()) q.set("event", event.trim());
    if (health) q.set("health", health);
    if (enabled) q.set("enabled", enabled);
    if (url.trim()) q.set("url", url.trim());
    navigate(`/webhooks${q.size ? `?${q}` : ""}`);
  };
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter webhooks">
      <label>
        Event
        <input value={event} onChange={(e) => setEvent(e.target.value)} placeholder="order.created" />
      </label>
      <label>
        Health
        <select value={health} onChange={(e) => setHealth(e.target.value)}>
          <option value="">any</option>
          <option value="HEALTHY">healthy</option>
          <option value="UNHEALTHY">unhealthy</option>
          <option value="UNKNOWN">unknown</option>
        </select>
      </label>
      <label>
        Enabled
        <select value={enabled} onChange={(e) => setEnabled(e.target.value)}>
          <option value="">any</option>
          <option value="true">enabled</option>
          <option value="false">disabled</option>
        </select>
      </label>
      <label>
        URL contains
        <input value={url} onChange={(e) => setURL(e.target.value)} />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}
