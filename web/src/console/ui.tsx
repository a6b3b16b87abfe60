import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { CombinedGraphQLErrors } from "@apollo/client";
import { messageOf } from "./client";

/** fieldErrors splits err into messages by input field (extensions.field) and the rest. */
export function fieldErrors(err: unknown): { byField: Record<string, string>; general: string[] } {
  const byField: Record<string, string> = {};
  const general: string[] = [];
  if (CombinedGraphQLErrors.is(err)) {
    for (const e of err.errors) {
      const field = e.extensions?.field;
      if (typeof field === "string" && field) {
        // "headers[1].name" belongs next to headers.
        const top = field.split(/[.[]/)[0];
        byField[top] = byField[top] ? `${byField[top]}; ${e.message}` : e.message;
      } else general.push(e.message);
    }
  } else if (err) general.push(messageOf(err));
  return { byField, general };
}

/** ErrorMessage shows err's message where a screen reader announces it. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {messageOf(error)}
    </p>
  );
}

/** Field is a labelled control with its hint and its server-side error. */
export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string;
  hint?: ReactNode;
  children: (props: { id: string; "aria-describedby"?: string; "aria-invalid"?: boolean }) => ReactNode;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field${error ? " invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-describedby": described, "aria-invalid": error ? true : undefined })}
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** When shows a timestamp in the reader's locale; empty shows a dash. */
export function When({ value, empty = "—" }: { value?: string | null; empty?: string }) {
  if (!value) return <>{empty}</>;
  const d = new Date(value);
  return (
    <time dateTime={value} title={value}>
      {dateTime.format(d)}
    </time>
  );
}

export function Badge({ kind, children }: { kind: string; children: ReactNode }) {
  return <span className={`badge badge-${kind.toLowerCase()}`}>{children}</span>;
}

/** CopyButton copies text and says so. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          setTimeout(() => setDone(false), 2000);
        } catch {
          window.prompt("Copy this:", text);
        }
      }}
    >
      {done ? "Copied" : label}
      <span className="sr-only" role="status">
        {done ? "Copied to the clipboard" : ""}
      </span>
    </button>
  );
}

/** Secret shows a value that is shown only once, with a copy button. */
export function Secret({ title, value, note }: { title: string; value: string; note?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="secret" role="region" aria-label={title} tabIndex={-1} ref={ref}>
      <strong>{title}</strong>
      <p>{note ?? "Shown only this once: copy it now."}</p>
      <code className="secret-value">{value}</code> <CopyButton text={value} />
    </div>
  );
}

/** Confirm is a button that asks once more, in place, before acting. */
export function Confirm({ label, question, onConfirm, danger = true }: { label: string; question: string; onConfirm: () => void; danger?: boolean }) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className={danger ? "danger" : undefined} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        ref={yes}
        className={danger ? "danger" : undefined}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Yes, {label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** LoadMore fetches the next page of a connection. */
export function LoadMore({
  pageInfo,
  loading,
  onMore,
  shown,
  total,
}: {
  pageInfo?: { hasNextPage: boolean; endCursor?: string | null };
  loading: boolean;
  onMore: (after: string) => void;
  shown: number;
  total?: number;
}) {
  return (
    <div className="pager">
      <span role="status">
        {shown} shown{total !== undefined ? ` of ${total}` : ""}
      </span>
      {pageInfo?.hasNextPage && pageInfo.endCursor && (
        <button type="button" disabled={loading} onClick={() => onMore(pageInfo.endCursor!)}>
          {loading ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}

/** Body shows a request or response body: JSON pretty-printed, anything else (XML too) as text. */
export function Body({ text, label }: { text: string; label: string }) {
  let shown = text;
  try {
    if (/^\s*[[{]/.test(text)) shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Not JSON after all: show it as sent.
  }
  return (
    <pre className="body" aria-label={label} tabIndex={0}>
      {shown || "(empty)"}
    </pre>
  );
}

export function HeaderTable({ headers, caption }: { headers: { name: string; value?: string | null; secret: boolean }[]; caption: string }) {
  return (
    <table className="headers">
      <caption>{caption}</caption>
      <tbody>
        {headers.length === 0 && (
          <tr>
            <td colSpan={2}>(none)</td>
          </tr>
        )}
        {headers.map((h, i) => (
          <tr key={i}>
            <th scope="row">{h.name}</th>
            <td>{h.secret ? <em>redacted</em> : h.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** pretty returns v as indented JSON. */
export function pretty(v: unknown): string {
  return JSON.stringify(v, null, 2);
}
