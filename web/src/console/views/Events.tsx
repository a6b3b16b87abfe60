import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { graphql } from "../../gql";
import type { EventFilter } from "../../gql/graphql";
import { Link, navigate, useLocation } from "../router";
import { ErrorMessage, Field, LoadMore, When, fieldErrors, pretty } from "../ui";
import { DeliveryTable } from "./Deliveries";

const EventsQuery = graphql(`
  query Events($first: Int, $after: String, $filter: EventFilter) {
    events(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          id
          type
          idempotencyKey
          createdAt
          deliveries(first: 1) {
            totalCount
          }
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

const EventQuery = graphql(`
  query Event($id: ID!, $after: String) {
    event(id: $id) {
      id
      type
      payload
      idempotencyKey
      requestId
      createdAt
      deliveries(first: 20, after: $after) {
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
  }
`);

const Publish = graphql(`
  mutation PublishTestEvent($input: PublishEventInput!) {
    publishEvent(input: $input) {
      id
      type
      createdAt
      deliveries(first: 1) {
        totalCount
      }
    }
  }
`);

/** Events lists published events and sends test ones. */
export function Events() {
  const { query } = useLocation();
  const filter: EventFilter = {};
  if (query.get("type")) filter.type = query.get("type");
  if (query.get("since")) filter.since = new Date(query.get("since")!).toISOString();
  if (query.get("until")) filter.until = new Date(query.get("until")!).toISOString();
  const { data, loading, error, fetchMore } = useQuery(EventsQuery, { variables: { first: 20, filter }, notifyOnNetworkStatusChange: true });
  const conn = data?.events;
  return (
    <>
      <h1 tabIndex={-1}>Events</h1>
      <SendTestEvent open={query.get("send") === "1"} initialType={query.get("send") === "1" ? (query.get("type") ?? "") : ""} />
      <EventFilters initial={query} />
      <ErrorMessage error={error} />
      <div className="table-wrap">
        <table className="list">
          <caption className="sr-only">Events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Type</th>
              <th scope="col">Deliveries</th>
              <th scope="col">Idempotency key</th>
            </tr>
          </thead>
          <tbody>
            {conn?.edges.map(({ node: ev }) => (
              <tr key={ev.id}>
                <td>
                  <Link to={`/events/${encodeURIComponent(ev.id)}`} aria-label={`Event ${ev.type}, created ${ev.createdAt}`}>
                    <When value={ev.createdAt} />
                  </Link>
                </td>
                <td>{ev.type}</td>
                <td className="num">{ev.deliveries.totalCount}</td>
                <td>{ev.idempotencyKey ?? "—"}</td>
              </tr>
            ))}
            {conn && conn.edges.length === 0 && (
              <tr>
                <td colSpan={4}>No events.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <LoadMore pageInfo={conn?.pageInfo} loading={loading} shown={conn?.edges.length ?? 0} total={conn?.totalCount} onMore={(after) => fetchMore({ variables: { after } })} />
    </>
  );
}

function EventFilters({ initial }: { initial: URLSearchParams }) {
  const [type, setType] = useState(initial.get("send") ? "" : (initial.get("type") ?? ""));
  const [since, setSince] = useState(initial.get("since") ?? "");
  const [until, setUntil] = useState(initial.get("until") ?? "");
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (type.trim()) q.set("type", type.trim());
    if (since) q.set("since", since);
    if (until) q.set("until", until);
    navigate(`/events${q.size ? `?${q}` : ""}`);
  };
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter events">
      <label>
        Type
        <input value={type} onChange={(e) => setType(e.target.value)} />
      </label>
      <label>
        Since
        <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
      </label>
      <label>
        Until
        <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}

/** SendTestEvent publishes an event of any type with a JSON payload. */
function SendTestEvent({ open, initialType }: { open: boolean; initialType: string }) {
  const [type, setType] = useState(initialType || "test.event");
  const [payload, setPayload] = useState('{\n  "hello": "world"\n}');
  const [key, setKey] = useState("");
  const [local, setLocal] = useState("");
  const [publish, { data, error, loading }] = useMutation(Publish, { refetchQueries: ["Events"] });
  const server = fieldErrors(error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch (x) {
      setLocal(`not JSON: ${(x as Error).message}`);
      return;
    }
    setLocal("");
    publish({ variables: { input: { type: type.trim(), payload: parsed, idempotencyKey: key.trim() || null } } }).catch(() => {});
  };
  const sent = data?.publishEvent;
  return (
    <details className="card" open={open}>
      <summary>Send test event</summary>
      <form className="form" onSubmit={submit} aria-label="Send test event" noValidate>
        {server.general.map((m) => (
          <p key={m} className="error" role="alert">
            {m}
          </p>
        ))}
        <Field label="Event type" error={server.byField.type}>
          {(p) => <input {...p} required value={type} onChange={(e) => setType(e.target.value)} />}
        </Field>
        <Field label="Payload (JSON)" error={local || server.byField.payload}>
          {(p) => <textarea {...p} className="mono" rows={6} value={payload} onChange={(e) => setPayload(e.target.value)} />}
        </Field>
        <Field label="Idempotency key (optional)" error={server.byField.idempotencyKey}>
          {(p) => <input {...p} value={key} onChange={(e) => setKey(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={loading}>
            Send event
          </button>
        </div>
        {sent && (
          <p role="status" className="ok">
            Sent {sent.type}: {sent.deliveries.totalCount} deliver{sent.deliveries.totalCount === 1 ? "y" : "ies"}.{" "}
            <Link to={`/events/${encodeURIComponent(sent.id)}`}>Open the event</Link>
          </p>
        )}
      </form>
    </details>
  );
}

/** EventDetail shows an event's payload and its deliveries. */
export function EventDetail({ id }: { id: string }) {
  const { data, error, loading, fetchMore } = useQuery(EventQuery, { variables: { id }, notifyOnNetworkStatusChange: true });
  if (error) return <ErrorMessage error={error} />;
  if (!data) return <p role="status">Loading…</p>;
  const ev = data.event;
  if (!ev) return <h1 tabIndex={-1}>Event not found</h1>;
  return (
    <>
      <p className="crumbs">
        <Link to="/events">Events</Link> ›
      </p>
      <h1 tabIndex={-1}>Event {ev.type}</h1>
      <dl className="props">
        <dt>ID</dt>
        <dd>
          <code>{ev.id}</code>
        </dd>
        <dt>Created</dt>
        <dd>
          <When value={ev.createdAt} />
        </dd>
        <dt>Idempotency key</dt>
        <dd>{ev.idempotencyKey ?? "—"}</dd>
        <dt>Request ID</dt>
        <dd>
          <code>{ev.requestId}</code>
        </dd>
      </dl>
      <h2>Payload</h2>
      <pre className="body" tabIndex={0} aria-label="Payload">
        {pretty(ev.payload)}
      </pre>
      <h2>Deliveries</h2>
      <DeliveryTable deliveries={ev.deliveries.edges.map((e) => e.node)} caption="This event's deliveries" />
      <LoadMore
        pageInfo={ev.deliveries.pageInfo}
        loading={loading}
        shown={ev.deliveries.edges.length}
        total={ev.deliveries.totalCount}
        onMore={(after) => fetchMore({ variables: { after } })}
      />
    </>
  );
}

