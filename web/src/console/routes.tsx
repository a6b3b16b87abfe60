import type { ReactNode } from "react";
import type { ApiKeyRole } from "../gql/graphql";

/** Caller is the signed-in key and the owner it acts on. */
export type Caller = {
  id: string;
  owner: string;
  name?: string | null;
  role: ApiKeyRole;
  actingAs: string;
  isAdmin: boolean;
};

type Route = { path: string; admin?: boolean; render: (p: Record<string, string>, c: Caller) => ReactNode };

export const routes: Route[] = [
  { path: "/webhooks", render: () => <h1 tabIndex={-1}>Webhooks</h1> },
];
