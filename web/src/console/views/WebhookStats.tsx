import { useState } from "react";
import { useQuery } from "@apollo/client/react";
import { graphql } from "../../gql";
import type { StatsInterval } from "../../gql/graphql";
import { ErrorMessage } from "../ui";

const StatsQuery = graphql(`
  query WebhookStats($id: ID!, $since: Time!, $interval: StatsInterval) {
    webhookStats(id: $id, since: $since, interval: $interval) {
      start
      succeeded
      failed
      durationMs
    }
  }
`);

const ranges: { label: string; hours: number; interval: StatsInterval }[] = [
  { label: "Last hour", hours: 1, interval: "MINUTE" },
  { label: "Last day", hours: 24, interval: "HOUR" },
  { label: "Last 7 days", hours: 24 * 7, interval: "HOUR" },
];

/** WebhookStats charts a webhook's attempts per bucket of time: succeeded, failed, and their mean duration. */
export function WebhookStats({ webhookId }: { webhookId: string }) {
  const [range, setRange] = useState(0);
  const r = ranges[range];
  // The start is fixed per range choice, so polling does not refetch a new window each render.
  const [since, setSince] = useState(() => new Date(Date.now() - r.hours * 3600e3).toISOString());
  const { data, error } = useQuery(StatsQuery, {
    variables: { id: webhookId, since, interval: r.interval },
    pollInterval: 15_000,
  });
  const buckets = data?.webhookStats ?? [];
  const ok = buckets.reduce((n, b) => n + b.succeeded, 0);
  const failed = buckets.reduce((n, b) => n + b.failed, 0);
  const timed = buckets.filter((b) => b.durationMs != null);
  const mean = timed.length ? Math.round(timed.reduce((n, b) => n + b.durationMs! * (b.succeeded + b.failed), 0) / Math.max(1, timed.reduce((n, b) => n + b.succeeded + b.failed, 0))) : null;
  const summary =
    ok + failed === 0
      ? `No attempts in the ${r.label.toLowerCase()}.`
      : `${ok + failed} attempt${ok + failed === 1 ? "" : "s"} in the ${r.label.toLowerCase()}: ${ok} succeeded, ${failed} failed (${Math.round((100 * ok) / (ok + failed))}% success)${mean != null ? `, ${mean} ms on average` : ""}.`;
  const max = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed));
  const w = 600;
  const h = 120;
  const bw = buckets.length ? w / buckets.length : w;
  return (
    <section aria-labelledby="wh-stats" className="card">
      <div className="title-row">
        <h2 id="wh-stats">Statistics</h2>
        <label className="inline">
          Range{" "}
          <select
            value={range}
            onChange={(e) => {
              const i = Number(e.target.value);
              setRange(i);
              setSince(new Date(Date.now() - ranges[i].hours * 3600e3).toISOString());
            }}
          >
            {ranges.map((x, i) => (
              <option key={x.label} value={i}>
                {x.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorMessage error={error} />
      <p role="status">{data ? summary : "Loading…"}</p>
      {buckets.length > 0 && (
        <svg className="chart" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={`Attempts per ${r.interval === "MINUTE" ? "minute" : "hour"}: ${summary}`}>
          {buckets.map((b, i) => {
            const okH = (b.succeeded / max) * (h - 4);
            const badH = (b.failed / max) * (h - 4);
            return (
              <g key={b.start}>
                <title>{`${new Date(b.start).toLocaleString()}: ${b.succeeded} succeeded, ${b.failed} failed${b.durationMs != null ? `, ${b.durationMs} ms` : ""}`}</title>
                <rect x={i * bw + bw * 0.1} width={bw * 0.8} y={h - okH} height={okH} fill="#2fbf5b" />
                <rect x={i * bw + bw * 0.1} width={bw * 0.8} y={h - okH - badH} height={badH} fill="#d93a2f" />
              </g>
            );
          })}
          <line x1="0" x2={w} y1={h - 0.5} y2={h - 0.5} stroke="#aab2bd" />
        </svg>
      )}
      <p className="hint">
        <span className="swatch ok-swatch" aria-hidden="true" /> succeeded <span className="swatch bad-swatch" aria-hidden="true" /> failed; bars
        per {r.interval === "MINUTE" ? "minute" : "hour"}, oldest on the left.
      </p>
    </section>
  );
}
