import { useQuery } from "@apollo/client/react";
import { graphql } from "../../gql";
import type { AttemptFullFragment } from "../../gql/graphql";
import { Body, ErrorMessage, HeaderTable, When } from "../ui";

export const AttemptFullFields = graphql(`
  fragment AttemptFull on DeliveryAttempt {
    id
    webhookId
    eventId
    eventType
    attemptNumber
    outcome
    statusCode
    error
    durationMs
    startedAt
    nextRetryAt
    requestId
    requestHeaders {
      name
      value
      secret
    }
    requestBody
    responseHeaders {
      name
      value
      secret
    }
    responseBody
  }
`);

const AttemptQuery = graphql(`
  query Attempt($id: ID!) {
    node(id: $id) {
      ... on DeliveryAttempt {
        ...AttemptFull
        delivery {
          id
        }
      }
    }
  }
`);

/** AttemptDetail shows what was sent and what came back. */
export function AttemptDetail({ attempt }: { attempt: AttemptFullFragment }) {
  return (
    <div className="attempt-detail">
      <dl className="props">
        <dt>Started</dt>
        <dd>
          <When value={attempt.startedAt} />
        </dd>
        <dt>Outcome</dt>
        <dd>
          {attempt.outcome.toLowerCase()}, {attempt.statusCode ? `HTTP ${attempt.statusCode}` : "no answer"}, {attempt.durationMs} ms
        </dd>
        {attempt.error && (
          <>
            <dt>Error</dt>
            <dd>{attempt.error}</dd>
          </>
        )}
        {attempt.nextRetryAt && (
          <>
            <dt>Next retry</dt>
            <dd>
              <When value={attempt.nextRetryAt} />
            </dd>
          </>
        )}
        <dt>Request ID</dt>
        <dd>
          <code>{attempt.requestId}</code>
        </dd>
      </dl>
      <div className="two-col">
        <section aria-label="Request">
          <h3>Request</h3>
          <HeaderTable headers={attempt.requestHeaders} caption="Request headers" />
          <Body text={attempt.requestBody} label="Request body" />
        </section>
        <section aria-label="Response">
          <h3>Response</h3>
          <HeaderTable headers={attempt.responseHeaders} caption="Response headers" />
          <Body text={attempt.responseBody} label="Response body" />
        </section>
      </div>
    </div>
  );
}

/** AttemptByID loads an attempt by its ID and shows it. */
export function AttemptByID({ id }: { id: string }) {
  const { data, error } = useQuery(AttemptQuery, { variables: { id } });
  if (error) return <ErrorMessage error={error} />;
  if (!data) return <p role="status">Loading…</p>;
  const a = data.node;
  if (!a || !("attemptNumber" in a)) return <p>Attempt not found.</p>;
  return <AttemptDetail attempt={a as AttemptFullFragment} />;
}
