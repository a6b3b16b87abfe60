import { useState } from "react";
import { useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { graphql } from "../../gql";
import { Link, navigate } from "../router";
import { Badge, Confirm, ErrorMessage, LoadMore, Secret, When, pretty } from "../ui";
import { HealthBadge } from "./Webhooks";
import { DeliveryTable, withDelivery } from "./Deliveries";
import { messageOf } from "../client";
import { WebhookStats } from "./WebhookStats";

const WebhookDetailQuery = graphql(`
  query WebhookDetail($id: ID!, $after: String) {
    webhook(id: $id) {
      ...WebhookFull
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

const WebhookDeliveryChanges = graphql(`
  subscription WebhookDeliveryChanges($filter: DeliveryFilter) {
    deliveryUpdated(filter: $filter) {
      ...DeliveryRow
    }
  }
`);

const SetEnabled = graphql(`
  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {
    updateWebhook(id: $id, input: { enabled: $enabled }) {
      id
      enabled
      disabledReason
      health
    }
  }
`);

const DeleteWebhook = graphql(`
  mutation DeleteWebhook($id: ID!) {
    deleteWebhook(id: $id)
  }
`);

const RemoveEvents = graphql(`
  mutation RemoveWebhookEvents($id: ID!, $events: [String!]!) {
    removeWebhookEvents(id: $id, events: $events) {
      id
      events
    }
  }
`);

const RotateSecret = graphql(`
  mutation RotateWebhookSecret($id: ID!) {
    rotateWebhookSecret(id: $id) {
      webhook {
        id
        updatedAt
      }
      secret
    }
  }
`);

const Ping = graphql(`
  mutation PingWebhook($id: ID!) {
    pingWebhook(id: $id) {
      webhookId
      health
      statusCode
      durationMs
      error
    }
  }
`);

const Replay = graphql(`
  mutation ReplayFailed($id: ID!, $since: Time!) {
    replayFailedDeliveries(webhookId: $id, since: $since)
  }
`);

/** WebhookDetail shows one webhook, its actions, and its deliveries as they change. */
export function WebhookDetail({ id }: { id: string }) {
  const { data, loading, error, fetchMore, updateQuery } = useQuery(WebhookDetailQuery, { variables: { id }, notifyOnNetworkStatusChange: true });
  useSubscription(WebhookDeliveryChanges, {
    variables: { filter: { webhookId: id } },
    onData: ({ data: d }) => {
      const changed = d.data?.deliveryUpdated;
      if (changed)
        updateQuery((_, { complete, previousData: prev }) =>
          complete && prev.webhook ? { ...prev, webhook: { ...prev.webhook, deliveries: withDelivery(prev.webhook.deliveries, changed) } } : undefined,
        );
    },
  });
  const [setEnabled, enabling] = useMutation(SetEnabled);
  const [remove, removing] = useMutation(DeleteWebhook, { refetchQueries: ["Webhooks"] });
  const [removeEvents, removingEvents] = useMutation(RemoveEvents);
  const [rotate, rotation] = useMutation(RotateSecret);
  const [ping, pinging] = useMutation(Ping);
  const [replay, replaying] = useMutation(Replay);
  const [replaySince, setReplaySince] = useState(() => localInput(new Date(Date.now() - 24 * 3600e3)));
  const [dropEvents, setDropEvents] = useState<string[]>([]);

  if (error) return <ErrorMessage error={error} />;
  if (!data) return <p role="status">Loading…</p>;
  const w = data.webhook;
  if (!w) {
    return (
      <>
        <h1 tabIndex={-1}>Webhook not found</h1>
        <Link to="/webhooks">Back to webhooks</Link>
      </>
    );
  }
  const actionError = enabling.error ?? removing.error ?? removingEvents.error ?? rotation.error ?? pinging.error ?? replaying.error;
  const pr = pinging.data?.pingWebhook;

  return (
    <>
      <p className="crumbs">
        <Link to="/webhooks">Webhooks</Link> ›
      </p>
      <div className="title-row">
        <h1 tabIndex={-1} className="url">
          {w.url}
        </h1>
        <HealthBadge health={w.health} />
        {!w.enabled && <Badge kind="disabled">disabled</Badge>}
      </div>
      {w.description && <p>{w.description}</p>}
      {w.disabledReason && <p className="warn">Disabled by Hookline: {w.disabledReason}</p>}
      {w.warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {w.warnings.map((m) => (
            <li key={m} className="warn">
              {m}
            </li>
          ))}
        </ul>
      )}

      <section aria-labelledby="wh-actions" className="card">
        <h2 id="wh-actions">Actions</h2>
        <div className="actions">
          <Link to={`/webhooks/${encodeURIComponent(w.id)}/edit`} className="button">
            Edit
          </Link>
          <button type="button" disabled={enabling.loading} onClick={() => setEnabled({ variables: { id: w.id, enabled: !w.enabled } }).catch(() => {})}>
            {w.enabled ? "Disable" : "Enable"}
          </button>
          <button type="button" disabled={pinging.loading} onClick={() => ping({ variables: { id: w.id } }).catch(() => {})}>
            {pinging.loading ? "Pinging…" : "Ping"}
          </button>
          <Confirm
            label="Rotate secret"
            danger={false}
            question="Rotate the signing secret? Receivers need the new one."
            onConfirm={() => rotate({ variables: { id: w.id } }).catch(() => {})}
          />
          <Link to={`/events?send=1&type=${encodeURIComponent(w.events.find((e) => e !== "*") ?? "")}`} className="button">
            Send test event
          </Link>
          <Confirm
            label="Delete"
            question="Delete this webhook? Pending deliveries are cancelled."
            onConfirm={() =>
              remove({ variables: { id: w.id } })
                .then((r) => r.data && navigate("/webhooks"))
                .catch(() => {})
            }
          />
        </div>
        {actionError && (
          <p className="error" role="alert">
            {messageOf(actionError)}
          </p>
        )}
        {pr && (
          <p role="status" className={pr.error ? "warn" : "ok"}>
            Ping: {pr.statusCode ? `HTTP ${pr.statusCode}` : "no answer"} in {pr.durationMs} ms, health {pr.health.toLowerCase()}
            {pr.error ? ` — ${pr.error}` : ""}
          </p>
        )}
        {rotation.data && <Secret title="New signing secret" value={rotation.data.rotateWebhookSecret.secret} />}
      </section>

      <section aria-labelledby="wh-config" className="card">
        <h2 id="wh-config">Configuration</h2>
        <dl className="props">
          <dt>Events</dt>
          <dd>
            <fieldset className="plain">
              <legend className="sr-only">Event types; tick to remove</legend>
              {w.events.map((ev) => (
                <label key={ev} className="inline chip">
                  <input
                    type="checkbox"
                    checked={dropEvents.includes(ev)}
                    onChange={(e) => setDropEvents((d) => (e.target.checked ? [...d, ev] : d.filter((x) => x !== ev)))}
                  />{" "}
                  {ev}
                </label>
              ))}
              {dropEvents.length > 0 && (
                <button
                  type="button"
                  disabled={removingEvents.loading}
                  onClick={() =>
                    removeEvents({ variables: { id: w.id, events: dropEvents } })
                      .then(() => setDropEvents([]))
                      .catch(() => {})
                  }
                >
                  Remove {dropEvents.length === 1 ? "event" : `${dropEvents.length} events`}
                </button>
              )}
            </fieldset>
          </dd>
          <dt>Format</dt>
          <dd>{w.format}</dd>
          <dt>Filters</dt>
          <dd>{w.filters == null ? "none" : <pre className="body">{pretty(w.filters)}</pre>}</dd>
          <dt>Headers</dt>
          <dd>{w.headers.length === 0 ? "none" : w.headers.map((h) => `${h.name}: ${h.secret ? "(secret)" : h.value}`).join(", ")}</dd>
          <dt>Bearer token</dt>
          <dd>{w.hasBearerToken ? "set" : "not set"}</dd>
          <dt>Shared token</dt>
          <dd>{w.hasSharedToken ? "set" : "not set"}</dd>
          <dt>Consecutive failures</dt>
          <dd>{w.consecutiveFailures}</dd>
          <dt>Last delivery</dt>
          <dd>
            <When value={w.lastDeliveryAt} empty="never" />
          </dd>
          <dt>Created</dt>
          <dd>
            <When value={w.createdAt} />
          </dd>
          <dt>ID</dt>
          <dd>
            <code>{w.id}</code>
          </dd>
        </dl>
      </section>

      <WebhookStats webhookId={w.id} />

      <section aria-labelledby="wh-deliveries" className="card">
        <h2 id="wh-deliveries">Recent deliveries</h2>
        <form
          className="filters"
          aria-label="Replay failed deliveries"
          onSubmit={(e) => {
            e.preventDefault();
            replay({ variables: { id: w.id, since: new Date(replaySince).toISOString() } }).catch(() => {});
          }}
        >
          <label>
            Failed since
            <input type="datetime-local" value={replaySince} onChange={(e) => setReplaySince(e.target.value)} required />
          </label>
          <button type="submit" disabled={replaying.loading}>
            Replay failed deliveries
          </button>
          {replaying.data && <span role="status">{replaying.data.replayFailedDeliveries} re-queued.</span>}
        </form>
        <DeliveryTable deliveries={w.deliveries.edges.map((e) => e.node)} showWebhook={false} caption="This webhook's deliveries, newest first, updated live" />
        <LoadMore
          pageInfo={w.deliveries.pageInfo}
          loading={loading}
          shown={w.deliveries.edges.length}
          total={w.deliveries.totalCount}
          onMore={(after) => fetchMore({ variables: { after } })}
        />
      </section>
    </>
  );
}

/** localInput formats d for an <input type="datetime-local">. */
export function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
