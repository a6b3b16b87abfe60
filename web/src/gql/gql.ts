/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Me {\n    me {\n      id\n      owner\n      name\n      role\n      expiresAt\n    }\n  }\n": typeof types.MeDocument,
    "\n  subscription WebhookChanges {\n    webhookUpdated {\n      id\n      url\n      enabled\n      health\n      disabledReason\n      consecutiveFailures\n      lastDeliveryAt\n      updatedAt\n    }\n  }\n": typeof types.WebhookChangesDocument,
    "\n  query Owners($after: String) {\n    owners(first: 100, after: $after) {\n      edges {\n        cursor\n        node {\n          name\n          webhookCount\n          unhealthyWebhookCount\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": typeof types.OwnersDocument,
};
const documents: Documents = {
    "\n  query Me {\n    me {\n      id\n      owner\n      name\n      role\n      expiresAt\n    }\n  }\n": types.MeDocument,
    "\n  subscription WebhookChanges {\n    webhookUpdated {\n      id\n      url\n      enabled\n      health\n      disabledReason\n      consecutiveFailures\n      lastDeliveryAt\n      updatedAt\n    }\n  }\n": types.WebhookChangesDocument,
    "\n  query Owners($after: String) {\n    owners(first: 100, after: $after) {\n      edges {\n        cursor\n        node {\n          name\n          webhookCount\n          unhealthyWebhookCount\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": types.OwnersDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      id\n      owner\n      name\n      role\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      id\n      owner\n      name\n      role\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WebhookChanges {\n    webhookUpdated {\n      id\n      url\n      enabled\n      health\n      disabledReason\n      consecutiveFailures\n      lastDeliveryAt\n      updatedAt\n    }\n  }\n"): (typeof documents)["\n  subscription WebhookChanges {\n    webhookUpdated {\n      id\n      url\n      enabled\n      health\n      disabledReason\n      consecutiveFailures\n      lastDeliveryAt\n      updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Owners($after: String) {\n    owners(first: 100, after: $after) {\n      edges {\n        cursor\n        node {\n          name\n          webhookCount\n          unhealthyWebhookCount\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query Owners($after: String) {\n    owners(first: 100, after: $after) {\n      edges {\n        cursor\n        node {\n          name\n          webhookCount\n          unhealthyWebhookCount\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;