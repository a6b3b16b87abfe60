import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { useApolloClient, useQuery } from "@apollo/client/react";
import { graphql } from "../../gql";
import type { AttemptFilter, AttemptOutcome, LiveAttemptFragment } from "../../gql/graphql";
import { codeOf, messageOf, type Connection } from "../client";
import { navigate, useLocation } from "../router";
import { useSocketState } from "../shell";
import { Badge } from "../ui";
import { AttemptByID } from "./AttemptDetail";

export const LiveAttemptFields = graphql(`
  fragment LiveAttempt on DeliveryAttempt {
    id
    webhookId
    eventType
    attemptNumber
    outcome
    statusCode
    error
    durationMs
    startedAt
    delivery {
      id
      webhook {
        id
        url
      }
    }
  }
`);

const LiveAttempts = graphql(`
  subscription LiveAttempts($filter: AttemptFilter) {
    deliveryAttempts(filter: $filter) {
      ...LiveAttempt
    }
  }
`);

// Catching up reads the newest deliveries' latest attempts: what a gap in
// the stream most likely missed.
const CatchUp = graphql(`
  query LiveCatchUp($filter: DeliveryFilter) {
    deliveries(first: 100, filter: $filter) {
      edges {
        node {
          id
          webhook {
            id
            url
          }
          attempts(last: 5) {
            id
            webhookId
            eventType
            attemptNumber
            outcome
            statusCode
            error
            durationMs
            startedAt
          }
        }
      }
    }
  }
`);

const WebhookChoices = graphql(`
  query LiveWebhookChoices {
    webhooks(first: 100) {
      edges {
        cursor
        node {
          id
          url
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

/** At most this many attempts are kept; older ones drop off the end. */
export const maxRows = 1000;
const rowHeight = 44;
const backfill = 60 * 60 * 1000; // on opening, the last hour

type Row = LiveAttemptFragment;

function matches(a: Row, f: AttemptFilter): boolean {
  return (!f.webhookId || a.webhookId === f.webhookId) && (!f.eventType || a.eventType === f.eventType) && (!f.outcome || a.outcome === f.outcome);
}

/** merge adds incoming attempts to rows, newest first, once each, capped at maxRows. */
export function merge(rows: Row[], incoming: Row[]): Row[] {
  const seen = new Set(rows.map((r) => r.id));
  const fresh = incoming.filter((r) => !seen.has(r.id) && (seen.add(r.id), true));
  if (fresh.length === 0) return rows;
  const all = [...fresh, ...rows];
  all.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  return all.length > maxRows ? all.slice(0, maxRows) : all;
}

/**
 * Live shows delivery attempts as they happen. The stream reconnects by
 * itself; after a gap (a reconnect, or the server dropping a subscriber
 * too slow to keep up) it catches up through Query.deliveries.
 */
export function Live({ conn }: { conn: Connection }) {
  const client = useApolloClient();
  const { query } = useLocation();
  const filter: AttemptFilter = {};
  if (query.get("webhook")) filter.webhookId = query.get("webhook");
  if (query.get("type")) filter.eventType = query.get("type");
  if (query.get("outcome")) filter.outcome = query.get("outcome") as AttemptOutcome;
  const filterKey = JSON.stringify(filter);

  const [rows, setRows] = useState<Row[]>([]);
  const [paused, setPaused] = useState(false);
  const pending = useRef<Row[]>([]);
  const [pendingCount, setPendingCount] = useState(0);
  const [note, setNote] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const newest = useRef<string | null>(null);
  const known = useRef(new Set<string>());

  // add shows the attempts not seen yet and returns how many there were.
  const add = useCallback((incoming: Row[]) => {
    const fresh = incoming.filter((r) => !known.current.has(r.id));
    if (fresh.length === 0) return 0;
    for (const r of fresh) {
      known.current.add(r.id);
      if (!newest.current || Date.parse(r.startedAt) > Date.parse(newest.current)) newest.current = r.startedAt;
    }
    if (pausedRef.current) {
      pending.current = merge(pending.current, fresh);
      setPendingCount(pending.current.length);
    } else setRows((rs) => merge(rs, fresh));
    return fresh.length;
  }, []);

  useEffect(() => {
    const f: AttemptFilter = JSON.parse(filterKey);
    let stopped = false;
    let sub: { unsubscribe: () => void } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setRows([]);
    pending.current = [];
    setPendingCount(0);
    newest.current = null;
    known.current = new Set();

    const catchUp = async (since: number, why: string) => {
      try {
        const res = await client.query({
          query: CatchUp,
          variables: { filter: f.webhookId ? { webhookId: f.webhookId } : {} },
          fetchPolicy: "network-only",
        });
        if (stopped || !res.data) return;
        const found: Row[] = res.data.deliveries.edges.flatMap((e) =>
          e.node.attempts.map((a) => ({ ...a, __typename: "DeliveryAttempt" as const, delivery: { __typename: "Delivery" as const, id: e.node.id, webhook: e.node.webhook } })),
        );
        const n = add(found.filter((a) => Date.parse(a.startedAt) >= since && matches(a, f)));
        if (why) setNote(`${why}: ${n} missed attempt${n === 1 ? "" : "s"} loaded.`);
      } catch (e) {
        if (!stopped) setNote(`Could not catch up: ${messageOf(e)}`);
      }
    };
    const gapStart = () => (newest.current ? Date.parse(newest.current) - 1000 : Date.now() - backfill);

    const restart = (why: string) => {
      sub?.unsubscribe();
      clearTimeout(timer);
      setNote(why);
      timer = setTimeout(() => {
        if (stopped) return;
        start();
        catchUp(gapStart(), "Caught up after a gap");
      }, 1000);
    };
    const start = () => {
      sub = client.subscribe({ query: LiveAttempts, variables: { filter: f } }).subscribe({
        next: (r) => {
          if (r.error) {
            const slow = codeOf(r.error) === "SLOW_SUBSCRIBER";
            restart(slow ? "The server dropped this view for falling behind; catching up…" : `Stream error: ${messageOf(r.error)}; retrying…`);
            return;
          }
          if (r.data) add([r.data.deliveryAttempts]);
        },
        error: (e) => {
          if (!stopped) restart(`Stream error: ${messageOf(e)}; retrying…`);
        },
        complete: () => {
          if (!stopped) restart("The stream ended; resubscribing…");
        },
      });
    };
    start();
    catchUp(Date.now() - backfill, "");
    const off = conn.onState((state, reconnected) => {
      if (state === "connected" && reconnected) catchUp(gapStart(), "Reconnected and caught up");
    });
    return () => {
      stopped = true;
      sub?.unsubscribe();
      clearTimeout(timer);
      off();
    };
  }, [client, conn, filterKey, add]);

  // Opening an attempt moves focus to its detail, once per attempt opened.
  const detailTitle = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (selected) detailTitle.current?.focus();
  }, [selected]);

  const resume = () => {
    setPaused(false);
    setRows((rs) => merge(rs, pending.current));
    pending.current = [];
    setPendingCount(0);
  };

  return (
    <>
      <div className="title-row">
        <h1 tabIndex={-1}>Live</h1>
        <StreamState conn={conn} paused={paused} />
      </div>
      <LiveFilters initial={query} />
      <div className="actions">
        {paused ? (
          <button type="button" className="primary" onClick={resume}>
            Resume{pendingCount ? ` (${pendingCount} new)` : ""}
          </button>
        ) : (
          <button type="button" onClick={() => setPaused(true)}>
            Pause
          </button>
        )}
        <button type="button" onClick={() => setRows([])}>
          Clear
        </button>
        <span className="muted" role="status">
          {rows.length} attempt{rows.length === 1 ? "" : "s"}
          {rows.length >= maxRows ? ` (the newest ${maxRows})` : ""}
        </span>
      </div>
      {note && (
        <p className="note" role="status">
          {note}
        </p>
      )}
      <div className={`live-grid${selected ? " with-detail" : ""}`}>
        <AttemptList rows={rows} selected={selected} onSelect={setSelected} />
        {selected && (
          <section className="card detail-panel" aria-labelledby="attempt-title">
            <div className="title-row">
              <h2 id="attempt-title" tabIndex={-1} ref={detailTitle}>
                Attempt
              </h2>
              <button type="button" onClick={() => setSelected(null)}>
                Close
              </button>
            </div>
            <AttemptByID id={selected} />
          </section>
        )}
      </div>
    </>
  );
}

function StreamState({ conn, paused }: { conn: Connection; paused: boolean }) {
  const state = useSocketState(conn);
  const label = paused ? "Paused" : state === "connected" ? "Streaming" : state === "closed" ? "Disconnected" : "Reconnecting…";
  return (
    <span className={`conn conn-${paused ? "paused" : state}`} role="status" aria-live="polite" aria-label={`Stream: ${label}`}>
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}

/** AttemptList is a virtualised list: only the rows in view are in the page. */
function AttemptList({ rows, selected, onSelect }: { rows: Row[]; selected: string | null; onSelect: (id: string) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [height, setHeight] = useState(480);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scroll / rowHeight) - 5);
  const last = Math.min(rows.length, Math.ceil((scroll + height) / rowHeight) + 5);
  return (
    <div className="live-list">
      <div className="live-row live-head" aria-hidden="true">
        <span>Time</span>
        <span>Webhook</span>
        <span>Event</span>
        <span>#</span>
        <span>Outcome</span>
        <span>Status</span>
        <span>Duration</span>
      </div>
      <div className="vlist" ref={box} onScroll={(e) => setScroll(e.currentTarget.scrollTop)} tabIndex={-1}>
        <ul aria-label="Delivery attempts, newest first" style={{ height: rows.length * rowHeight }}>
          {rows.slice(first, last).map((a, i) => {
            const url = a.delivery.webhook?.url ?? a.webhookId;
            const time = new Date(a.startedAt).toLocaleTimeString();
            return (
              <li key={a.id} aria-setsize={rows.length} aria-posinset={first + i + 1} style={{ top: (first + i) * rowHeight, height: rowHeight }}>
                <button
                  type="button"
                  className={`live-row${selected === a.id ? " selected" : ""}`}
                  aria-pressed={selected === a.id}
                  onClick={() => onSelect(a.id)}
                >
                  <span>
                    <time dateTime={a.startedAt}>{time}</time>
                  </span>
                  <span className="url">{url}</span>
                  <span>{a.eventType}</span>
                  <span>
                    <span className="sr-only">attempt </span>
                    {a.attemptNumber}
                  </span>
                  <span>
                    <Badge kind={a.outcome}>{a.outcome.toLowerCase()}</Badge>
                  </span>
                  <span>{a.statusCode ?? (a.error ? "error" : "—")}</span>
                  <span>{a.durationMs} ms</span>
                </button>
              </li>
            );
          })}
        </ul>
        {rows.length === 0 && <p className="empty">Waiting for attempts…</p>}
      </div>
    </div>
  );
}

function LiveFilters({ initial }: { initial: URLSearchParams }) {
  const { data } = useQuery(WebhookChoices);
  const [webhook, setWebhook] = useState(initial.get("webhook") ?? "");
  const [type, setType] = useState(initial.get("type") ?? "");
  const [outcome, setOutcome] = useState(initial.get("outcome") ?? "");
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (webhook) q.set("webhook", webhook);
    if (type.trim()) q.set("type", type.trim());
    if (outcome) q.set("outcome", outcome);
    navigate(`/live${q.size ? `?${q}` : ""}`);
  };
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter attempts">
      <label>
        Webhook
        <select value={webhook} onChange={(e) => setWebhook(e.target.value)}>
          <option value="">any</option>
          {data?.webhooks.edges.map((e) => (
            <option key={e.node.id} value={e.node.id}>
              {e.node.url}
            </option>
          ))}
        </select>
      </label>
      <label>
        Event type
        <input value={type} onChange={(e) => setType(e.target.value)} />
      </label>
      <label>
        Outcome
        <select value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          <option value="">any</option>
          <option value="SUCCESS">success</option>
          <option value="FAILURE">failure</option>
        </select>
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}
