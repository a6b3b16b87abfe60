import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { graphql } from "../../gql";
import type { DeliveryFilter, DeliveryRowFragment, DeliveryStatus } from "../../gql/graphql";
import { Link, navigate, useLocation } from "../router";
import { Badge, ErrorMessage, LoadMore, When } from "../ui";
import { AttemptByID } from "./AttemptDetail";

export const DeliveryRowFields = graphql(`
  fragment DeliveryRow on Delivery {
    id
    webhookId
    webhook {
      id
      url
    }
    event {
      id
      type
    }
    status
    attemptCount
    nextAttemptAt
    lastAttempt {
      id
      outcome
      statusCode
      durationMs
      startedAt
    }
    createdAt
    updatedAt
  }
`);

const DeliveriesQuery = graphql(`
  query Deliveries($first: Int, $after: String, $filter: DeliveryFilter) {
    deliveries(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          ...DeliveryRow
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

const DeliveryChanges = graphql(`
  subscription DeliveryChanges($filter: DeliveryFilter) {
    deliveryUpdated(filter: $filter) {
      ...DeliveryRow
    }
  }
`);

const DeliveryQuery = graphql(`
  query Delivery($id: ID!) {
    delivery(id: $id) {
      ...DeliveryRow
      event {
        id
        type
        payload
        createdAt
      }
      attempts(last: 100) {
        id
        attemptNumber
        outcome
        statusCode
        error
        durationMs
        startedAt
      }
    }
  }
`);

const Redeliver = graphql(`
  mutation Redeliver($id: ID!) {
    redeliver(deliveryId: $id) {
      ...DeliveryRow
    }
  }
`);

type DeliveryPage = {
  edges: { cursor: string; node: DeliveryRowFragment }[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
};

/**
 * withDelivery returns page with d added at the top when it is not there
 * yet. A change to a delivery already listed needs nothing: the cache
 * updates it by its ID. Adding it here, rather than refetching, keeps a
 * slower refetch from overwriting a newer change.
 */
export function withDelivery<P extends DeliveryPage>(page: P, d: DeliveryRowFragment): P {
  if (page.edges.some((e) => e.node.id === d.id)) return page;
  return { ...page, edges: [{ __typename: "DeliveryEdge", cursor: "", node: d }, ...page.edges], totalCount: page.totalCount + 1 };
}

export function StatusBadge({ status }: { status: DeliveryStatus }) {
  return <Badge kind={status}>{status.toLowerCase()}</Badge>;
}

export function DeliveryTable({ deliveries, showWebhook = true, caption }: { deliveries: DeliveryRowFragment[]; showWebhook?: boolean; caption: string }) {
  return (
    <div className="table-wrap">
      <table className="list">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Created</th>
            {showWebhook && <th scope="col">Webhook</th>}
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">Next attempt</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr key={d.id}>
              <td>
                <Link to={`/deliveries/${encodeURIComponent(d.id)}`} aria-label={`Delivery of ${d.event.type}, created ${d.createdAt}`}>
                  <When value={d.createdAt} />
                </Link>
              </td>
              {showWebhook && <td className="url">{d.webhook ? <Link to={`/webhooks/${encodeURIComponent(d.webhook.id)}`}>{d.webhook.url}</Link> : <em>deleted</em>}</td>}
              <td>{d.event.type}</td>
              <td>
                <StatusBadge status={d.status} />
              </td>
              <td className="num">{d.attemptCount}</td>
              <td>{d.lastAttempt ? `${d.lastAttempt.statusCode ?? "no answer"} · ${d.lastAttempt.durationMs} ms` : "—"}</td>
              <td>
                <When value={d.nextAttemptAt} />
              </td>
            </tr>
          ))}
          {deliveries.length === 0 && (
            <tr>
              <td colSpan={showWebhook ? 7 : 6}>No deliveries.</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** Deliveries lists deliveries, newest first, filtered by webhook, event and status. */
export function Deliveries() {
  const { query } = useLocation();
  const filter: DeliveryFilter = {};
  if (query.get("webhook")) filter.webhookId = query.get("webhook");
  if (query.get("event")) filter.eventId = query.get("event");
  if (query.get("status")) filter.status = query.get("status") as DeliveryStatus;
  const { data, loading, error, fetchMore, updateQuery } = useQuery(DeliveriesQuery, { variables: { first: 20, filter }, notifyOnNetworkStatusChange: true });
  useSubscription(DeliveryChanges, {
    variables: { filter },
    onData: ({ data: d }) => {
      const changed = d.data?.deliveryUpdated;
      if (changed) updateQuery((_, { complete, previousData: prev }) => (complete ? { ...prev, deliveries: withDelivery(prev.deliveries, changed) } : undefined));
    },
  });
  const conn = data?.deliveries;
  return (
    <>
      <h1 tabIndex={-1}>Deliveries</h1>
      <DeliveryFilters initial={query} />
      <ErrorMessage error={error} />
      <DeliveryTable deliveries={conn?.edges.map((e) => e.node) ?? []} caption="Deliveries, newest first, updated live" />
      <LoadMore pageInfo={conn?.pageInfo} loading={loading} shown={conn?.edges.length ?? 0} total={conn?.totalCount} onMore={(after) => fetchMore({ variables: { after } })} />
    </>
  );
}

function DeliveryFilters({ initial }: { initial: URLSearchParams }) {
  const [webhook, setWebhook] = useState(initial.get("webhook") ?? "");
  const [event, setEvent] = useState(initial.get("event") ?? "");
  const [status, setStatus] = useState(initial.get("status") ?? "");
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (webhook.trim()) q.set("webhook", webhook.trim());
    if (event.trim()) q.set("event", event.trim());
    if (status) q.set("status", status);
    navigate(`/deliveries${q.size ? `?${q}` : ""}`);
  };
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter deliveries">
      <label>
        Webhook ID
        <input value={webhook} onChange={(e) => setWebhook(e.target.value)} />
      </label>
      <label>
        Event ID
        <input value={event} onChange={(e) => setEvent(e.target.value)} />
      </label>
      <label>
        Status
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any</option>
          {["PENDING", "SUCCEEDED", "RETRYING", "DEAD", "CANCELLED"].map((s) => (
            <option key={s} value={s}>
              {s.toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}

/**
 * DeliveryDetail shows a delivery with the timeline of its attempts; an
 * attempt's headers and bodies load when it is opened, which keeps the
 * page's query well under the server's cost limit.
 */
export function DeliveryDetail({ id }: { id: string }) {
  const { data, error, refetch } = useQuery(DeliveryQuery, { variables: { id } });
  useSubscription(DeliveryChanges, { variables: { filter: {} }, onData: ({ data: d }) => d.data?.deliveryUpdated.id === id && refetch() });
  const [redeliver, redelivery] = useMutation(Redeliver);
  const [open, setOpen] = useState<string | null>(null);
  if (error) return <ErrorMessage error={error} />;
  if (!data) return <p role="status">Loading…</p>;
  const d = data.delivery;
  if (!d) return <h1 tabIndex={-1}>Delivery not found</h1>;
  const attempts = [...d.attempts].reverse();
  return (
    <>
      <p className="crumbs">
        <Link to="/deliveries">Deliveries</Link> ›
      </p>
      <div className="title-row">
        <h1 tabIndex={-1}>Delivery of {d.event.type}</h1>
        <StatusBadge status={d.status} />
      </div>
      <dl className="props">
        <dt>Webhook</dt>
        <dd>{d.webhook ? <Link to={`/webhooks/${encodeURIComponent(d.webhook.id)}`}>{d.webhook.url}</Link> : <em>deleted</em>}</dd>
        <dt>Event</dt>
        <dd>
          <Link to={`/events/${encodeURIComponent(d.event.id)}`}>{d.event.id}</Link>
        </dd>
        <dt>Created</dt>
        <dd>
          <When value={d.createdAt} />
        </dd>
        <dt>Attempts</dt>
        <dd>{d.attemptCount}</dd>
        <dt>Next attempt</dt>
        <dd>
          <When value={d.nextAttemptAt} />
        </dd>
      </dl>
      <div className="actions">
        <button type="button" disabled={redelivery.loading} onClick={() => redeliver({ variables: { id: d.id } }).catch(() => {})}>
          Redeliver now
        </button>
        {redelivery.data && <span role="status">Queued.</span>}
        <ErrorMessage error={redelivery.error} />
      </div>
      <section aria-labelledby="attempts-title">
        <h2 id="attempts-title">Attempts</h2>
        {attempts.length === 0 && <p>No attempt yet.</p>}
        <ol className="timeline" reversed>
          {attempts.map((a) => (
            <li key={a.id} className={`outcome-${a.outcome.toLowerCase()}`}>
              <button type="button" aria-expanded={open === a.id} onClick={() => setOpen(open === a.id ? null : a.id)}>
                #{a.attemptNumber} · <When value={a.startedAt} /> · {a.outcome.toLowerCase()} · {a.statusCode ?? "no answer"} · {a.durationMs} ms
              </button>
              {open === a.id && <AttemptByID id={a.id} />}
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
