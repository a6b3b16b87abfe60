import type { ReactNode } from "react";
import type { ApiKeyRole } from "../gql/graphql";
import type { Connection } from "./client";
import { Webhooks } from "./views/Webhooks";
import { EditWebhook, NewWebhook } from "./views/WebhookForm";
import { WebhookDetail } from "./views/WebhookDetail";
import { Live } from "./views/Live";
import { Deliveries, DeliveryDetail } from "./views/Deliveries";
import { EventDetail, Events } from "./views/Events";
import { ApiKeys } from "./views/ApiKeys";

/** Caller is the signed-in key and the owner it acts on. */
export type Caller = {
  id: string;
  owner: string;
  name?: string | null;
  role: ApiKeyRole;
  actingAs: string;
  isAdmin: boolean;
};

type Route = { path: string; admin?: boolean; render: (p: Record<string, string>, c: Caller, conn: Connection) => ReactNode };

/** routes maps every view's path; the first match wins. */
export const routes: Route[] = [
  { path: "/webhooks", render: () => <Webhooks /> },
  { path: "/webhooks/new", render: () => <NewWebhook /> },
  { path: "/webhooks/:id", render: (p) => <WebhookDetail key={p.id} id={p.id} /> },
  { path: "/webhooks/:id/edit", render: (p) => <EditWebhook key={p.id} id={p.id} /> },
  { path: "/live", render: (_, __, conn) => <Live conn={conn} /> },
  { path: "/deliveries", render: () => <Deliveries /> },
  { path: "/deliveries/:id", render: (p) => <DeliveryDetail key={p.id} id={p.id} /> },
  { path: "/events", render: () => <Events /> },
  { path: "/events/:id", render: (p) => <EventDetail key={p.id} id={p.id} /> },
  { path: "/keys", admin: true, render: (_, c) => <ApiKeys actingAs={c.actingAs} ownKeyId={c.id} /> },
];
