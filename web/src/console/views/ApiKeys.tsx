import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { graphql } from "../../gql";
import type { ApiKeyRole } from "../../gql/graphql";
import { shareLink } from "../session";
import { navigate, useLocation } from "../router";
import { Confirm, CopyButton, ErrorMessage, Field, LoadMore, Secret, When, fieldErrors } from "../ui";
import { messageOf } from "../client";
import { localInput } from "./WebhookDetail";

const ApiKeysQuery = graphql(`
  query ApiKeys($first: Int, $after: String, $filter: ApiKeyFilter) {
    apiKeys(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          id
          owner
          name
          role
          createdAt
          expiresAt
          lastUsedAt
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

const CreateApiKey = graphql(`
  mutation CreateApiKey($owner: String!, $name: String, $role: ApiKeyRole, $expiresAt: Time) {
    createApiKey(owner: $owner, name: $name, role: $role, expiresAt: $expiresAt) {
      apiKey {
        id
        owner
        name
        role
        expiresAt
      }
      key
    }
  }
`);

const RevokeApiKey = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id)
  }
`);

/** ApiKeys lets an admin list, create, revoke and share keys. */
export function ApiKeys({ actingAs, ownKeyId }: { actingAs: string; ownKeyId: string }) {
  const { query } = useLocation();
  const owner = query.get("owner") ?? "";
  const { data, loading, error, fetchMore, refetch } = useQuery(ApiKeysQuery, {
    variables: { first: 50, filter: owner ? { owner } : {} },
    notifyOnNetworkStatusChange: true,
  });
  const [revoke, revoking] = useMutation(RevokeApiKey);
  const [ownerFilter, setOwnerFilter] = useState(owner);
  const conn = data?.apiKeys;
  return (
    <>
      <h1 tabIndex={-1}>API keys</h1>
      <ShareWithPartner defaultOwner={actingAs} onCreated={() => refetch()} />
      <CreateKey defaultOwner={actingAs} onCreated={() => refetch()} />
      <form
        className="filters"
        aria-label="Filter keys"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(ownerFilter.trim() ? `/keys?owner=${encodeURIComponent(ownerFilter.trim())}` : "/keys");
        }}
      >
        <label>
          Filter by owner
          <input value={ownerFilter} onChange={(e) => setOwnerFilter(e.target.value)} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorMessage error={error ?? revoking.error} />
      <div className="table-wrap">
        <table className="list">
          <caption className="sr-only">Unrevoked API keys, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Owner</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {conn?.edges.map(({ node: k }) => (
              <tr key={k.id}>
                <td>{k.name || <em>unnamed</em>}</td>
                <td>{k.owner}</td>
                <td>{k.role.toLowerCase()}</td>
                <td>
                  <When value={k.createdAt} />
                </td>
                <td>
                  <When value={k.expiresAt} empty="never" />
                </td>
                <td>
                  <When value={k.lastUsedAt} empty="never" />
                </td>
                <td>
                  {k.id === ownKeyId ? (
                    <span className="muted">this key</span>
                  ) : (
                    <Confirm
                      label={`Revoke`}
                      question={`Revoke ${k.name || "this key"} of ${k.owner}? It stops working at once.`}
                      onConfirm={() =>
                        revoke({ variables: { id: k.id } })
                          .then(() => refetch())
                          .catch(() => {})
                      }
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LoadMore pageInfo={conn?.pageInfo} loading={loading} shown={conn?.edges.length ?? 0} total={conn?.totalCount} onMore={(after) => fetchMore({ variables: { after } })} />
    </>
  );
}

function CreateKey({ defaultOwner, onCreated }: { defaultOwner: string; onCreated: () => void }) {
  const [owner, setOwner] = useState(defaultOwner);
  const [name, setName] = useState("");
  const [role, setRole] = useState<ApiKeyRole>("MEMBER");
  const [expires, setExpires] = useState("");
  const [create, { data, error, loading }] = useMutation(CreateApiKey, { refetchQueries: ["Owners"] });
  const server = fieldErrors(error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create({ variables: { owner: owner.trim(), name: name.trim() || null, role, expiresAt: expires ? new Date(expires).toISOString() : null } })
      .then(onCreated)
      .catch(() => {});
  };
  return (
    <details className="card">
      <summary>Create API key</summary>
      <form className="form" onSubmit={submit} aria-label="Create API key" noValidate>
        {server.general.map((m) => (
          <p key={m} className="error" role="alert">
            {m}
          </p>
        ))}
        <Field label="Key owner" error={server.byField.owner}>
          {(p) => <input {...p} required value={owner} onChange={(e) => setOwner(e.target.value)} />}
        </Field>
        <Field label="Key name" error={server.byField.name}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Role" error={server.byField.role}>
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value as ApiKeyRole)}>
              <option value="MEMBER">member</option>
              <option value="ADMIN">admin</option>
            </select>
          )}
        </Field>
        <Field label="Expires at (optional)" error={server.byField.expiresAt}>
          {(p) => <input {...p} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={loading}>
            Create key
          </button>
        </div>
        {data && <Secret title={`API key for ${data.createApiKey.apiKey.owner}`} value={data.createApiKey.key} />}
      </form>
    </details>
  );
}

/**
 * ShareWithPartner creates an expiring member key for an owner and shows a
 * link that signs the partner straight in.
 */
function ShareWithPartner({ defaultOwner, onCreated }: { defaultOwner: string; onCreated: () => void }) {
  const [owner, setOwner] = useState(defaultOwner);
  const [hours, setHours] = useState("1");
  const [create, { data, error, loading }] = useMutation(CreateApiKey, { refetchQueries: ["Owners"] });
  const server = fieldErrors(error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const h = Number(hours) || 1;
    const expiresAt = new Date(Date.now() + h * 3600e3);
    create({
      variables: { owner: owner.trim(), name: `Shared ${localInput(new Date()).replace("T", " ")}`, role: "MEMBER", expiresAt: expiresAt.toISOString() },
    })
      .then(onCreated)
      .catch(() => {});
  };
  const link = data ? shareLink(data.createApiKey.key) : "";
  return (
    <details className="card" open>
      <summary>Share with partner</summary>
      <form className="form" onSubmit={submit} aria-label="Share with partner" noValidate>
        <p className="hint">Creates a member key for the owner that expires, and a link that signs in with it. Anyone with the link acts as that owner until it expires or is revoked.</p>
        {server.general.map((m) => (
          <p key={m} className="error" role="alert">
            {m}
          </p>
        ))}
        <Field label="Partner (owner)" error={server.byField.owner}>
          {(p) => <input {...p} required value={owner} onChange={(e) => setOwner(e.target.value)} />}
        </Field>
        <Field label="Link valid for (hours)" error={server.byField.expiresAt}>
          {(p) => <input {...p} type="number" min="0.1" step="0.5" value={hours} onChange={(e) => setHours(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={loading}>
            Create share link
          </button>
        </div>
        {data && (
          <div className="secret" role="region" aria-label="Share link">
            <strong>Share link for {data.createApiKey.apiKey.owner}</strong>
            <p>
              Expires <When value={data.createApiKey.apiKey.expiresAt} />. Shown only this once.
            </p>
            <input readOnly value={link} aria-label="Share link URL" className="mono wide" onFocus={(e) => e.target.select()} /> <CopyButton text={link} />
          </div>
        )}
        {error && !server.general.length && !Object.keys(server.byField).length && <p className="error">{messageOf(error)}</p>}
      </form>
    </details>
  );
}
