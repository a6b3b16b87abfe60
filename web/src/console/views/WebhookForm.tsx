import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { graphql } from "../../gql";
import type { CreateWebhookInput, HeaderInput, PayloadFormat, UpdateWebhookInput } from "../../gql/graphql";
import { Link, navigate } from "../router";
import { ErrorMessage, Field, Secret, fieldErrors, pretty } from "../ui";

export const WebhookFields = graphql(`
  fragment WebhookFull on Webhook {
    id
    url
    description
    events
    filters
    format
    enabled
    headers {
      name
      value
      secret
    }
    hasBearerToken
    hasSharedToken
    health
    disabledReason
    consecutiveFailures
    lastDeliveryAt
    warnings
    createdAt
    updatedAt
  }
`);

const WebhookQuery = graphql(`
  query WebhookForEdit($id: ID!) {
    webhook(id: $id) {
      ...WebhookFull
    }
  }
`);

const CreateWebhook = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      webhook {
        ...WebhookFull
      }
      secret
    }
  }
`);

const UpdateWebhook = graphql(`
  mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {
    updateWebhook(id: $id, input: $input) {
      ...WebhookFull
    }
  }
`);

type HeaderRow = { name: string; value: string; secret: boolean; stored: boolean };

type Form = {
  url: string;
  description: string;
  events: string;
  filters: string;
  format: PayloadFormat;
  enabled: boolean;
  headers: HeaderRow[];
  secret: string;
  bearerToken: string;
  sharedToken: string;
  clearBearer: boolean;
  clearShared: boolean;
};

const blank: Form = {
  url: "",
  description: "",
  events: "",
  filters: "",
  format: "JSON",
  enabled: true,
  headers: [],
  secret: "",
  bearerToken: "",
  sharedToken: "",
  clearBearer: false,
  clearShared: false,
};

function splitEvents(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((e) => e.trim())
    .filter(Boolean);
}

/** NewWebhook creates a webhook and shows its signing secret once. */
export function NewWebhook() {
  const [create, { data, error, loading }] = useMutation(CreateWebhook, { refetchQueries: ["Webhooks"] });
  const created = data?.createWebhook;
  if (created) {
    return (
      <>
        <h1 tabIndex={-1}>Webhook created</h1>
        <p>
          <Link to={`/webhooks/${encodeURIComponent(created.webhook.id)}`}>{created.webhook.url}</Link>
        </p>
        <Secret title="Signing secret" value={created.secret} note="Receivers verify signatures with it. Shown only this once: copy it now." />
        <p>
          <Link to={`/webhooks/${encodeURIComponent(created.webhook.id)}`}>Open the webhook</Link> ·{" "}
          <Link to="/webhooks">Back to webhooks</Link>
        </p>
      </>
    );
  }
  return (
    <>
      <h1 tabIndex={-1}>New webhook</h1>
      <WebhookForm
        initial={blank}
        creating
        error={error}
        busy={loading}
        onSubmit={(f, filters, headers) => {
          const input: CreateWebhookInput = {
            url: f.url.trim(),
            description: f.description,
            events: splitEvents(f.events),
            format: f.format,
            enabled: f.enabled,
            headers,
          };
          if (filters !== undefined && filters !== null) input.filters = filters;
          if (f.secret.trim()) input.secret = f.secret.trim();
          if (f.bearerToken) input.bearerToken = f.bearerToken;
          if (f.sharedToken) input.sharedToken = f.sharedToken;
          create({ variables: { input } }).catch(() => {});
        }}
      />
    </>
  );
}

/** EditWebhook changes any field of a webhook; write-only values are sent only when typed. */
export function EditWebhook({ id }: { id: string }) {
  const { data, error: loadError } = useQuery(WebhookQuery, { variables: { id }, fetchPolicy: "network-only" });
  const [update, { error, loading }] = useMutation(UpdateWebhook);
  const w = data?.webhook;
  if (loadError) return <ErrorMessage error={loadError} />;
  if (!data) return <p role="status">Loading…</p>;
  if (!w) return <h1 tabIndex={-1}>Webhook not found</h1>;
  const initial: Form = {
    ...blank,
    url: w.url,
    description: w.description,
    events: w.events.join(", "),
    filters: w.filters == null ? "" : pretty(w.filters),
    format: w.format,
    enabled: w.enabled,
    headers: w.headers.map((h) => ({ name: h.name, value: h.value ?? "", secret: h.secret, stored: true })),
  };
  return (
    <>
      <h1 tabIndex={-1}>Edit webhook</h1>
      <p className="muted">{w.url}</p>
      <WebhookForm
        initial={initial}
        hasBearer={w.hasBearerToken}
        hasShared={w.hasSharedToken}
        error={error}
        busy={loading}
        onSubmit={(f, filters, headers, headersChanged) => {
          const input: UpdateWebhookInput = {
            url: f.url.trim(),
            description: f.description,
            events: splitEvents(f.events),
            format: f.format,
            enabled: f.enabled,
          };
          if (f.filters !== initial.filters) input.filters = filters ?? null;
          if (headersChanged) input.headers = headers;
          if (f.clearBearer) input.bearerToken = "";
          else if (f.bearerToken) input.bearerToken = f.bearerToken;
          if (f.clearShared) input.sharedToken = "";
          else if (f.sharedToken) input.sharedToken = f.sharedToken;
          update({ variables: { id, input } })
            .then((r) => {
              if (r.data) navigate(`/webhooks/${encodeURIComponent(id)}`);
            })
            .catch(() => {});
        }}
      />
    </>
  );
}

function WebhookForm({
  initial,
  creating = false,
  hasBearer = false,
  hasShared = false,
  error,
  busy,
  onSubmit,
}: {
  initial: Form;
  creating?: boolean;
  hasBearer?: boolean;
  hasShared?: boolean;
  error: unknown;
  busy: boolean;
  onSubmit: (f: Form, filters: unknown, headers: HeaderInput[], headersChanged: boolean) => void;
}) {
  const [f, setF] = useState(initial);
  const [local, setLocal] = useState<Record<string, string>>({});
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setF((p) => ({ ...p, [k]: v }));
  const server = fieldErrors(error);
  const err = (k: string) => local[k] ?? server.byField[k];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    let filters: unknown = null;
    if (f.filters.trim()) {
      try {
        filters = JSON.parse(f.filters);
      } catch (x) {
        problems.filters = `not JSON: ${(x as Error).message}`;
      }
    }
    const headersChanged = JSON.stringify(f.headers) !== JSON.stringify(initial.headers);
    if (headersChanged && f.headers.some((h) => h.secret && h.stored && !h.value)) {
      problems.headers = "Secret header values are write-only: type them again to save a change to the headers.";
    }
    if (splitEvents(f.events).length === 0) problems.events = "Name at least one event type, or * for all.";
    setLocal(problems);
    if (Object.keys(problems).length) return;
    const headers: HeaderInput[] = f.headers
      .filter((h) => h.name.trim())
      .map((h) => ({ name: h.name.trim(), value: h.value, secret: h.secret }));
    onSubmit(f, filters, headers, headersChanged);
  };

  const setHeader = (i: number, h: Partial<HeaderRow>) =>
    set(
      "headers",
      f.headers.map((x, j) => (j === i ? { ...x, ...h } : x)),
    );

  return (
    <form className="form" onSubmit={submit} noValidate>
      {server.general.map((m) => (
        <p key={m} className="error" role="alert">
          {m}
        </p>
      ))}
      <Field label="URL" error={err("url")} hint="Where deliveries are POSTed.">
        {(p) => <input {...p} type="url" required value={f.url} onChange={(e) => set("url", e.target.value)} placeholder="https://example.com/hooks" />}
      </Field>
      <Field label="Description" error={err("description")}>
        {(p) => <input {...p} value={f.description} onChange={(e) => set("description", e.target.value)} />}
      </Field>
      <Field label="Events" error={err("events")} hint="Event types, separated by commas or spaces; * alone means every type.">
        {(p) => <input {...p} required value={f.events} onChange={(e) => set("events", e.target.value)} placeholder="order.created, order.paid" />}
      </Field>
      <Field label="Filters (JSON)" error={err("filters")} hint={'A payload path and the values it may have, e.g. {"awb": ["125"]}. Empty: no filters.'}>
        {(p) => <textarea {...p} rows={4} className="mono" value={f.filters} onChange={(e) => set("filters", e.target.value)} />}
      </Field>
      <Field label="Format" error={err("format")}>
        {(p) => (
          <select {...p} value={f.format} onChange={(e) => set("format", e.target.value as PayloadFormat)}>
            <option value="JSON">JSON</option>
            <option value="XML">XML</option>
            <option value="TEXT">Text</option>
          </select>
        )}
      </Field>
      <div className="field check">
        <input id="wh-enabled" type="checkbox" checked={f.enabled} onChange={(e) => set("enabled", e.target.checked)} />
        <label htmlFor="wh-enabled">Enabled</label>
        {err("enabled") && <small className="field-error">{err("enabled")}</small>}
      </div>

      <fieldset className={err("headers") ? "invalid" : undefined} aria-describedby="wh-headers-error">
        <legend>Headers</legend>
        <p className="hint">Sent with every delivery. A secret value is write-only and redacted in attempt records.</p>
        {f.headers.map((h, i) => (
          <div className="header-row" key={i} role="group" aria-label={`Header ${i + 1}`}>
            <label>
              Name
              <input value={h.name} onChange={(e) => setHeader(i, { name: e.target.value })} />
            </label>
            <label>
              Value
              <input
                type={h.secret ? "password" : "text"}
                value={h.value}
                autoComplete="off"
                placeholder={h.secret && h.stored ? "(write-only: type to replace)" : ""}
                onChange={(e) => setHeader(i, { value: e.target.value })}
              />
            </label>
            <label className="inline">
              <input type="checkbox" checked={h.secret} onChange={(e) => setHeader(i, { secret: e.target.checked })} /> Secret
            </label>
            <button type="button" onClick={() => set("headers", f.headers.filter((_, j) => j !== i))} aria-label={`Remove header ${h.name || i + 1}`}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => set("headers", [...f.headers, { name: "", value: "", secret: false, stored: false }])}>
          Add header
        </button>
        {err("headers") && (
          <small id="wh-headers-error" className="field-error" role="alert">
            {err("headers")}
          </small>
        )}
      </fieldset>

      <fieldset>
        <legend>Credentials (write-only)</legend>
        {creating && (
          <Field label="Signing secret" error={err("secret")} hint="Standard Webhooks secret (whsec_…); generated when empty.">
            {(p) => <input {...p} type="password" autoComplete="off" value={f.secret} onChange={(e) => set("secret", e.target.value)} />}
          </Field>
        )}
        <Field
          label="Bearer token"
          error={err("bearerToken")}
          hint={creating ? "A JWT sent as Authorization: Bearer with every delivery." : hasBearer ? "Set. Type a new one to replace it." : "Not set."}
        >
          {(p) => (
            <input {...p} type="password" autoComplete="off" disabled={f.clearBearer} value={f.bearerToken} onChange={(e) => set("bearerToken", e.target.value)} />
          )}
        </Field>
        {!creating && hasBearer && (
          <label className="inline">
            <input type="checkbox" checked={f.clearBearer} onChange={(e) => set("clearBearer", e.target.checked)} /> Remove the bearer token
          </label>
        )}
        <Field
          label="Shared token"
          error={err("sharedToken")}
          hint={creating ? "Sent as x-webhook-shared-token with every delivery." : hasShared ? "Set. Type a new one to replace it." : "Not set."}
        >
          {(p) => (
            <input {...p} type="password" autoComplete="off" disabled={f.clearShared} value={f.sharedToken} onChange={(e) => set("sharedToken", e.target.value)} />
          )}
        </Field>
        {!creating && hasShared && (
          <label className="inline">
            <input type="checkbox" checked={f.clearShared} onChange={(e) => set("clearShared", e.target.checked)} /> Remove the shared token
          </label>
        )}
      </fieldset>

      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {creating ? "Create webhook" : "Save changes"}
        </button>
        <Link to="/webhooks" className="button">
          Cancel
        </Link>
      </div>
    </form>
  );
}
