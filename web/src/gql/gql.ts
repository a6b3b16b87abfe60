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
    "\n  query ApiKeys($first: Int, $after: String, $filter: ApiKeyFilter) {\n    apiKeys(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          id\n          owner\n          name\n          role\n          createdAt\n          expiresAt\n          lastUsedAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": typeof types.ApiKeysDocument,
    "\n  mutation CreateApiKey($owner: String!, $name: String, $role: ApiKeyRole, $expiresAt: Time) {\n    createApiKey(owner: $owner, name: $name, role: $role, expiresAt: $expiresAt) {\n      apiKey {\n        id\n        owner\n        name\n        role\n        expiresAt\n      }\n      key\n    }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id)\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  fragment AttemptFull on DeliveryAttempt {\n    id\n    webhookId\n    eventId\n    eventType\n    attemptNumber\n    outcome\n    statusCode\n    error\n    durationMs\n    startedAt\n    nextRetryAt\n    requestId\n    requestHeaders {\n      name\n      value\n      secret\n    }\n    requestBody\n    responseHeaders {\n      name\n      value\n      secret\n    }\n    responseBody\n  }\n": typeof types.AttemptFullFragmentDoc,
    "\n  query Attempt($id: ID!) {\n    node(id: $id) {\n      ... on DeliveryAttempt {\n        ...AttemptFull\n        delivery {\n          id\n        }\n      }\n    }\n  }\n": typeof types.AttemptDocument,
    "\n  fragment DeliveryRow on Delivery {\n    id\n    webhookId\n    webhook {\n      id\n      url\n    }\n    event {\n      id\n      type\n    }\n    status\n    attemptCount\n    nextAttemptAt\n    lastAttempt {\n      id\n      outcome\n      statusCode\n      durationMs\n      startedAt\n    }\n    createdAt\n    updatedAt\n  }\n": typeof types.DeliveryRowFragmentDoc,
    "\n  query Deliveries($first: Int, $after: String, $filter: DeliveryFilter) {\n    deliveries(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          ...DeliveryRow\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": typeof types.DeliveriesDocument,
    "\n  subscription DeliveryChanges($filter: DeliveryFilter) {\n    deliveryUpdated(filter: $filter) {\n      ...DeliveryRow\n    }\n  }\n": typeof types.DeliveryChangesDocument,
    "\n  query Delivery($id: ID!) {\n    delivery(id: $id) {\n      ...DeliveryRow\n      event {\n        id\n        type\n        payload\n        createdAt\n      }\n      attempts(last: 100) {\n        id\n        attemptNumber\n        outcome\n        statusCode\n        error\n        durationMs\n        startedAt\n      }\n    }\n  }\n": typeof types.DeliveryDocument,
    "\n  mutation Redeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      ...DeliveryRow\n    }\n  }\n": typeof types.RedeliverDocument,
    "\n  query Events($first: Int, $after: String, $filter: EventFilter) {\n    events(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          id\n          type\n          idempotencyKey\n          createdAt\n          deliveries(first: 1) {\n            totalCount\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": typeof types.EventsDocument,
    "\n  query Event($id: ID!, $after: String) {\n    event(id: $id) {\n      id\n      type\n      payload\n      idempotencyKey\n      requestId\n      createdAt\n      deliveries(first: 20, after: $after) {\n        edges {\n          cursor\n          node {\n            ...DeliveryRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        totalCount\n      }\n    }\n  }\n": typeof types.EventDocument,
    "\n  mutation PublishTestEvent($input: PublishEventInput!) {\n    publishEvent(input: $input) {\n      id\n      type\n      createdAt\n      deliveries(first: 1) {\n        totalCount\n      }\n    }\n  }\n": typeof types.PublishTestEventDocument,
    "\n  fragment LiveAttempt on DeliveryAttempt {\n    id\n    webhookId\n    eventType\n    attemptNumber\n    outcome\n    statusCode\n    error\n    durationMs\n    startedAt\n    delivery {\n      id\n      webhook {\n        id\n        url\n      }\n    }\n  }\n": typeof types.LiveAttemptFragmentDoc,
    "\n  subscription LiveAttempts($filter: AttemptFilter) {\n    deliveryAttempts(filter: $filter) {\n      ...LiveAttempt\n    }\n  }\n": typeof types.LiveAttemptsDocument,
    "\n  query LiveCatchUp($filter: DeliveryFilter) {\n    deliveries(first: 100, filter: $filter) {\n      edges {\n        node {\n          id\n          webhook {\n            id\n            url\n          }\n          attempts(last: 5) {\n            id\n            webhookId\n            eventType\n            attemptNumber\n            outcome\n            statusCode\n            error\n            durationMs\n            startedAt\n          }\n        }\n      }\n    }\n  }\n": typeof types.LiveCatchUpDocument,
    "\n  query LiveWebhookChoices {\n    webhooks(first: 100) {\n      edges {\n        cursor\n        node {\n          id\n          url\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": typeof types.LiveWebhookChoicesDocument,
    "\n  query WebhookDetail($id: ID!, $after: String) {\n    webhook(id: $id) {\n      ...WebhookFull\n      deliveries(first: 20, after: $after) {\n        edges {\n          cursor\n          node {\n            ...DeliveryRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        totalCount\n      }\n    }\n  }\n": typeof types.WebhookDetailDocument,
    "\n  subscription WebhookDeliveryChanges($filter: DeliveryFilter) {\n    deliveryUpdated(filter: $filter) {\n      ...DeliveryRow\n    }\n  }\n": typeof types.WebhookDeliveryChangesDocument,
    "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n      disabledReason\n      health\n    }\n  }\n": typeof types.SetWebhookEnabledDocument,
    "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n": typeof types.DeleteWebhookDocument,
    "\n  mutation RemoveWebhookEvents($id: ID!, $events: [String!]!) {\n    removeWebhookEvents(id: $id, events: $events) {\n      id\n      events\n    }\n  }\n": typeof types.RemoveWebhookEventsDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      webhook {\n        id\n        updatedAt\n      }\n      secret\n    }\n  }\n": typeof types.RotateWebhookSecretDocument,
    "\n  mutation PingWebhook($id: ID!) {\n    pingWebhook(id: $id) {\n      webhookId\n      health\n      statusCode\n      durationMs\n      error\n    }\n  }\n": typeof types.PingWebhookDocument,
    "\n  mutation ReplayFailed($id: ID!, $since: Time!) {\n    replayFailedDeliveries(webhookId: $id, since: $since)\n  }\n": typeof types.ReplayFailedDocument,
    "\n  fragment WebhookFull on Webhook {\n    id\n    url\n    description\n    events\n    filters\n    format\n    enabled\n    headers {\n      name\n      value\n      secret\n    }\n    hasBearerToken\n    hasSharedToken\n    health\n    disabledReason\n    consecutiveFailures\n    lastDeliveryAt\n    warnings\n    createdAt\n    updatedAt\n  }\n": typeof types.WebhookFullFragmentDoc,
    "\n  query WebhookForEdit($id: ID!) {\n    webhook(id: $id) {\n      ...WebhookFull\n    }\n  }\n": typeof types.WebhookForEditDocument,
    "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) {\n      webhook {\n        ...WebhookFull\n      }\n      secret\n    }\n  }\n": typeof types.CreateWebhookDocument,
    "\n  mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {\n    updateWebhook(id: $id, input: $input) {\n      ...WebhookFull\n    }\n  }\n": typeof types.UpdateWebhookDocument,
    "\n  query WebhookStats($id: ID!, $since: Time!, $interval: StatsInterval) {\n    webhookStats(id: $id, since: $since, interval: $interval) {\n      start\n      succeeded\n      failed\n      durationMs\n    }\n  }\n": typeof types.WebhookStatsDocument,
    "\n  fragment WebhookRow on Webhook {\n    id\n    url\n    description\n    events\n    format\n    enabled\n    health\n    disabledReason\n    consecutiveFailures\n    lastDeliveryAt\n    warnings\n  }\n": typeof types.WebhookRowFragmentDoc,
    "\n  query Webhooks($first: Int, $after: String, $filter: WebhookFilter) {\n    webhooks(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          ...WebhookRow\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": typeof types.WebhooksDocument,
};
const documents: Documents = {
    "\n  query Me {\n    me {\n      id\n      owner\n      name\n      role\n      expiresAt\n    }\n  }\n": types.MeDocument,
    "\n  subscription WebhookChanges {\n    webhookUpdated {\n      id\n      url\n      enabled\n      health\n      disabledReason\n      consecutiveFailures\n      lastDeliveryAt\n      updatedAt\n    }\n  }\n": types.WebhookChangesDocument,
    "\n  query Owners($after: String) {\n    owners(first: 100, after: $after) {\n      edges {\n        cursor\n        node {\n          name\n          webhookCount\n          unhealthyWebhookCount\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": types.OwnersDocument,
    "\n  query ApiKeys($first: Int, $after: String, $filter: ApiKeyFilter) {\n    apiKeys(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          id\n          owner\n          name\n          role\n          createdAt\n          expiresAt\n          lastUsedAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": types.ApiKeysDocument,
    "\n  mutation CreateApiKey($owner: String!, $name: String, $role: ApiKeyRole, $expiresAt: Time) {\n    createApiKey(owner: $owner, name: $name, role: $role, expiresAt: $expiresAt) {\n      apiKey {\n        id\n        owner\n        name\n        role\n        expiresAt\n      }\n      key\n    }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id)\n  }\n": types.RevokeApiKeyDocument,
    "\n  fragment AttemptFull on DeliveryAttempt {\n    id\n    webhookId\n    eventId\n    eventType\n    attemptNumber\n    outcome\n    statusCode\n    error\n    durationMs\n    startedAt\n    nextRetryAt\n    requestId\n    requestHeaders {\n      name\n      value\n      secret\n    }\n    requestBody\n    responseHeaders {\n      name\n      value\n      secret\n    }\n    responseBody\n  }\n": types.AttemptFullFragmentDoc,
    "\n  query Attempt($id: ID!) {\n    node(id: $id) {\n      ... on DeliveryAttempt {\n        ...AttemptFull\n        delivery {\n          id\n        }\n      }\n    }\n  }\n": types.AttemptDocument,
    "\n  fragment DeliveryRow on Delivery {\n    id\n    webhookId\n    webhook {\n      id\n      url\n    }\n    event {\n      id\n      type\n    }\n    status\n    attemptCount\n    nextAttemptAt\n    lastAttempt {\n      id\n      outcome\n      statusCode\n      durationMs\n      startedAt\n    }\n    createdAt\n    updatedAt\n  }\n": types.DeliveryRowFragmentDoc,
    "\n  query Deliveries($first: Int, $after: String, $filter: DeliveryFilter) {\n    deliveries(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          ...DeliveryRow\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": types.DeliveriesDocument,
    "\n  subscription DeliveryChanges($filter: DeliveryFilter) {\n    deliveryUpdated(filter: $filter) {\n      ...DeliveryRow\n    }\n  }\n": types.DeliveryChangesDocument,
    "\n  query Delivery($id: ID!) {\n    delivery(id: $id) {\n      ...DeliveryRow\n      event {\n        id\n        type\n        payload\n        createdAt\n      }\n      attempts(last: 100) {\n        id\n        attemptNumber\n        outcome\n        statusCode\n        error\n        durationMs\n        startedAt\n      }\n    }\n  }\n": types.DeliveryDocument,
    "\n  mutation Redeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      ...DeliveryRow\n    }\n  }\n": types.RedeliverDocument,
    "\n  query Events($first: Int, $after: String, $filter: EventFilter) {\n    events(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          id\n          type\n          idempotencyKey\n          createdAt\n          deliveries(first: 1) {\n            totalCount\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": types.EventsDocument,
    "\n  query Event($id: ID!, $after: String) {\n    event(id: $id) {\n      id\n      type\n      payload\n      idempotencyKey\n      requestId\n      createdAt\n      deliveries(first: 20, after: $after) {\n        edges {\n          cursor\n          node {\n            ...DeliveryRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        totalCount\n      }\n    }\n  }\n": types.EventDocument,
    "\n  mutation PublishTestEvent($input: PublishEventInput!) {\n    publishEvent(input: $input) {\n      id\n      type\n      createdAt\n      deliveries(first: 1) {\n        totalCount\n      }\n    }\n  }\n": types.PublishTestEventDocument,
    "\n  fragment LiveAttempt on DeliveryAttempt {\n    id\n    webhookId\n    eventType\n    attemptNumber\n    outcome\n    statusCode\n    error\n    durationMs\n    startedAt\n    delivery {\n      id\n      webhook {\n        id\n        url\n      }\n    }\n  }\n": types.LiveAttemptFragmentDoc,
    "\n  subscription LiveAttempts($filter: AttemptFilter) {\n    deliveryAttempts(filter: $filter) {\n      ...LiveAttempt\n    }\n  }\n": types.LiveAttemptsDocument,
    "\n  query LiveCatchUp($filter: DeliveryFilter) {\n    deliveries(first: 100, filter: $filter) {\n      edges {\n        node {\n          id\n          webhook {\n            id\n            url\n          }\n          attempts(last: 5) {\n            id\n            webhookId\n            eventType\n            attemptNumber\n            outcome\n            statusCode\n            error\n            durationMs\n            startedAt\n          }\n        }\n      }\n    }\n  }\n": types.LiveCatchUpDocument,
    "\n  query LiveWebhookChoices {\n    webhooks(first: 100) {\n      edges {\n        cursor\n        node {\n          id\n          url\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": types.LiveWebhookChoicesDocument,
    "\n  query WebhookDetail($id: ID!, $after: String) {\n    webhook(id: $id) {\n      ...WebhookFull\n      deliveries(first: 20, after: $after) {\n        edges {\n          cursor\n          node {\n            ...DeliveryRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        totalCount\n      }\n    }\n  }\n": types.WebhookDetailDocument,
    "\n  subscription WebhookDeliveryChanges($filter: DeliveryFilter) {\n    deliveryUpdated(filter: $filter) {\n      ...DeliveryRow\n    }\n  }\n": types.WebhookDeliveryChangesDocument,
    "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n      disabledReason\n      health\n    }\n  }\n": types.SetWebhookEnabledDocument,
    "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n": types.DeleteWebhookDocument,
    "\n  mutation RemoveWebhookEvents($id: ID!, $events: [String!]!) {\n    removeWebhookEvents(id: $id, events: $events) {\n      id\n      events\n    }\n  }\n": types.RemoveWebhookEventsDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      webhook {\n        id\n        updatedAt\n      }\n      secret\n    }\n  }\n": types.RotateWebhookSecretDocument,
    "\n  mutation PingWebhook($id: ID!) {\n    pingWebhook(id: $id) {\n      webhookId\n      health\n      statusCode\n      durationMs\n      error\n    }\n  }\n": types.PingWebhookDocument,
    "\n  mutation ReplayFailed($id: ID!, $since: Time!) {\n    replayFailedDeliveries(webhookId: $id, since: $since)\n  }\n": types.ReplayFailedDocument,
    "\n  fragment WebhookFull on Webhook {\n    id\n    url\n    description\n    events\n    filters\n    format\n    enabled\n    headers {\n      name\n      value\n      secret\n    }\n    hasBearerToken\n    hasSharedToken\n    health\n    disabledReason\n    consecutiveFailures\n    lastDeliveryAt\n    warnings\n    createdAt\n    updatedAt\n  }\n": types.WebhookFullFragmentDoc,
    "\n  query WebhookForEdit($id: ID!) {\n    webhook(id: $id) {\n      ...WebhookFull\n    }\n  }\n": types.WebhookForEditDocument,
    "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) {\n      webhook {\n        ...WebhookFull\n      }\n      secret\n    }\n  }\n": types.CreateWebhookDocument,
    "\n  mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {\n    updateWebhook(id: $id, input: $input) {\n      ...WebhookFull\n    }\n  }\n": types.UpdateWebhookDocument,
    "\n  query WebhookStats($id: ID!, $since: Time!, $interval: StatsInterval) {\n    webhookStats(id: $id, since: $since, interval: $interval) {\n      start\n      succeeded\n      failed\n      durationMs\n    }\n  }\n": types.WebhookStatsDocument,
    "\n  fragment WebhookRow on Webhook {\n    id\n    url\n    description\n    events\n    format\n    enabled\n    health\n    disabledReason\n    consecutiveFailures\n    lastDeliveryAt\n    warnings\n  }\n": types.WebhookRowFragmentDoc,
    "\n  query Webhooks($first: Int, $after: String, $filter: WebhookFilter) {\n    webhooks(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          ...WebhookRow\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n": types.WebhooksDocument,
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
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys($first: Int, $after: String, $filter: ApiKeyFilter) {\n    apiKeys(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          id\n          owner\n          name\n          role\n          createdAt\n          expiresAt\n          lastUsedAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query ApiKeys($first: Int, $after: String, $filter: ApiKeyFilter) {\n    apiKeys(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          id\n          owner\n          name\n          role\n          createdAt\n          expiresAt\n          lastUsedAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($owner: String!, $name: String, $role: ApiKeyRole, $expiresAt: Time) {\n    createApiKey(owner: $owner, name: $name, role: $role, expiresAt: $expiresAt) {\n      apiKey {\n        id\n        owner\n        name\n        role\n        expiresAt\n      }\n      key\n    }\n  }\n"): (typeof documents)["\n  mutation CreateApiKey($owner: String!, $name: String, $role: ApiKeyRole, $expiresAt: Time) {\n    createApiKey(owner: $owner, name: $name, role: $role, expiresAt: $expiresAt) {\n      apiKey {\n        id\n        owner\n        name\n        role\n        expiresAt\n      }\n      key\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id)\n  }\n"): (typeof documents)["\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AttemptFull on DeliveryAttempt {\n    id\n    webhookId\n    eventId\n    eventType\n    attemptNumber\n    outcome\n    statusCode\n    error\n    durationMs\n    startedAt\n    nextRetryAt\n    requestId\n    requestHeaders {\n      name\n      value\n      secret\n    }\n    requestBody\n    responseHeaders {\n      name\n      value\n      secret\n    }\n    responseBody\n  }\n"): (typeof documents)["\n  fragment AttemptFull on DeliveryAttempt {\n    id\n    webhookId\n    eventId\n    eventType\n    attemptNumber\n    outcome\n    statusCode\n    error\n    durationMs\n    startedAt\n    nextRetryAt\n    requestId\n    requestHeaders {\n      name\n      value\n      secret\n    }\n    requestBody\n    responseHeaders {\n      name\n      value\n      secret\n    }\n    responseBody\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Attempt($id: ID!) {\n    node(id: $id) {\n      ... on DeliveryAttempt {\n        ...AttemptFull\n        delivery {\n          id\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Attempt($id: ID!) {\n    node(id: $id) {\n      ... on DeliveryAttempt {\n        ...AttemptFull\n        delivery {\n          id\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DeliveryRow on Delivery {\n    id\n    webhookId\n    webhook {\n      id\n      url\n    }\n    event {\n      id\n      type\n    }\n    status\n    attemptCount\n    nextAttemptAt\n    lastAttempt {\n      id\n      outcome\n      statusCode\n      durationMs\n      startedAt\n    }\n    createdAt\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment DeliveryRow on Delivery {\n    id\n    webhookId\n    webhook {\n      id\n      url\n    }\n    event {\n      id\n      type\n    }\n    status\n    attemptCount\n    nextAttemptAt\n    lastAttempt {\n      id\n      outcome\n      statusCode\n      durationMs\n      startedAt\n    }\n    createdAt\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Deliveries($first: Int, $after: String, $filter: DeliveryFilter) {\n    deliveries(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          ...DeliveryRow\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query Deliveries($first: Int, $after: String, $filter: DeliveryFilter) {\n    deliveries(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          ...DeliveryRow\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DeliveryChanges($filter: DeliveryFilter) {\n    deliveryUpdated(filter: $filter) {\n      ...DeliveryRow\n    }\n  }\n"): (typeof documents)["\n  subscription DeliveryChanges($filter: DeliveryFilter) {\n    deliveryUpdated(filter: $filter) {\n      ...DeliveryRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Delivery($id: ID!) {\n    delivery(id: $id) {\n      ...DeliveryRow\n      event {\n        id\n        type\n        payload\n        createdAt\n      }\n      attempts(last: 100) {\n        id\n        attemptNumber\n        outcome\n        statusCode\n        error\n        durationMs\n        startedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query Delivery($id: ID!) {\n    delivery(id: $id) {\n      ...DeliveryRow\n      event {\n        id\n        type\n        payload\n        createdAt\n      }\n      attempts(last: 100) {\n        id\n        attemptNumber\n        outcome\n        statusCode\n        error\n        durationMs\n        startedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Redeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      ...DeliveryRow\n    }\n  }\n"): (typeof documents)["\n  mutation Redeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      ...DeliveryRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Events($first: Int, $after: String, $filter: EventFilter) {\n    events(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          id\n          type\n          idempotencyKey\n          createdAt\n          deliveries(first: 1) {\n            totalCount\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query Events($first: Int, $after: String, $filter: EventFilter) {\n    events(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          id\n          type\n          idempotencyKey\n          createdAt\n          deliveries(first: 1) {\n            totalCount\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Event($id: ID!, $after: String) {\n    event(id: $id) {\n      id\n      type\n      payload\n      idempotencyKey\n      requestId\n      createdAt\n      deliveries(first: 20, after: $after) {\n        edges {\n          cursor\n          node {\n            ...DeliveryRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        totalCount\n      }\n    }\n  }\n"): (typeof documents)["\n  query Event($id: ID!, $after: String) {\n    event(id: $id) {\n      id\n      type\n      payload\n      idempotencyKey\n      requestId\n      createdAt\n      deliveries(first: 20, after: $after) {\n        edges {\n          cursor\n          node {\n            ...DeliveryRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        totalCount\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PublishTestEvent($input: PublishEventInput!) {\n    publishEvent(input: $input) {\n      id\n      type\n      createdAt\n      deliveries(first: 1) {\n        totalCount\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation PublishTestEvent($input: PublishEventInput!) {\n    publishEvent(input: $input) {\n      id\n      type\n      createdAt\n      deliveries(first: 1) {\n        totalCount\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LiveAttempt on DeliveryAttempt {\n    id\n    webhookId\n    eventType\n    attemptNumber\n    outcome\n    statusCode\n    error\n    durationMs\n    startedAt\n    delivery {\n      id\n      webhook {\n        id\n        url\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment LiveAttempt on DeliveryAttempt {\n    id\n    webhookId\n    eventType\n    attemptNumber\n    outcome\n    statusCode\n    error\n    durationMs\n    startedAt\n    delivery {\n      id\n      webhook {\n        id\n        url\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LiveAttempts($filter: AttemptFilter) {\n    deliveryAttempts(filter: $filter) {\n      ...LiveAttempt\n    }\n  }\n"): (typeof documents)["\n  subscription LiveAttempts($filter: AttemptFilter) {\n    deliveryAttempts(filter: $filter) {\n      ...LiveAttempt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LiveCatchUp($filter: DeliveryFilter) {\n    deliveries(first: 100, filter: $filter) {\n      edges {\n        node {\n          id\n          webhook {\n            id\n            url\n          }\n          attempts(last: 5) {\n            id\n            webhookId\n            eventType\n            attemptNumber\n            outcome\n            statusCode\n            error\n            durationMs\n            startedAt\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query LiveCatchUp($filter: DeliveryFilter) {\n    deliveries(first: 100, filter: $filter) {\n      edges {\n        node {\n          id\n          webhook {\n            id\n            url\n          }\n          attempts(last: 5) {\n            id\n            webhookId\n            eventType\n            attemptNumber\n            outcome\n            statusCode\n            error\n            durationMs\n            startedAt\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LiveWebhookChoices {\n    webhooks(first: 100) {\n      edges {\n        cursor\n        node {\n          id\n          url\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query LiveWebhookChoices {\n    webhooks(first: 100) {\n      edges {\n        cursor\n        node {\n          id\n          url\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookDetail($id: ID!, $after: String) {\n    webhook(id: $id) {\n      ...WebhookFull\n      deliveries(first: 20, after: $after) {\n        edges {\n          cursor\n          node {\n            ...DeliveryRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        totalCount\n      }\n    }\n  }\n"): (typeof documents)["\n  query WebhookDetail($id: ID!, $after: String) {\n    webhook(id: $id) {\n      ...WebhookFull\n      deliveries(first: 20, after: $after) {\n        edges {\n          cursor\n          node {\n            ...DeliveryRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        totalCount\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WebhookDeliveryChanges($filter: DeliveryFilter) {\n    deliveryUpdated(filter: $filter) {\n      ...DeliveryRow\n    }\n  }\n"): (typeof documents)["\n  subscription WebhookDeliveryChanges($filter: DeliveryFilter) {\n    deliveryUpdated(filter: $filter) {\n      ...DeliveryRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n      disabledReason\n      health\n    }\n  }\n"): (typeof documents)["\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n      disabledReason\n      health\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveWebhookEvents($id: ID!, $events: [String!]!) {\n    removeWebhookEvents(id: $id, events: $events) {\n      id\n      events\n    }\n  }\n"): (typeof documents)["\n  mutation RemoveWebhookEvents($id: ID!, $events: [String!]!) {\n    removeWebhookEvents(id: $id, events: $events) {\n      id\n      events\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      webhook {\n        id\n        updatedAt\n      }\n      secret\n    }\n  }\n"): (typeof documents)["\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      webhook {\n        id\n        updatedAt\n      }\n      secret\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PingWebhook($id: ID!) {\n    pingWebhook(id: $id) {\n      webhookId\n      health\n      statusCode\n      durationMs\n      error\n    }\n  }\n"): (typeof documents)["\n  mutation PingWebhook($id: ID!) {\n    pingWebhook(id: $id) {\n      webhookId\n      health\n      statusCode\n      durationMs\n      error\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplayFailed($id: ID!, $since: Time!) {\n    replayFailedDeliveries(webhookId: $id, since: $since)\n  }\n"): (typeof documents)["\n  mutation ReplayFailed($id: ID!, $since: Time!) {\n    replayFailedDeliveries(webhookId: $id, since: $since)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WebhookFull on Webhook {\n    id\n    url\n    description\n    events\n    filters\n    format\n    enabled\n    headers {\n      name\n      value\n      secret\n    }\n    hasBearerToken\n    hasSharedToken\n    health\n    disabledReason\n    consecutiveFailures\n    lastDeliveryAt\n    warnings\n    createdAt\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment WebhookFull on Webhook {\n    id\n    url\n    description\n    events\n    filters\n    format\n    enabled\n    headers {\n      name\n      value\n      secret\n    }\n    hasBearerToken\n    hasSharedToken\n    health\n    disabledReason\n    consecutiveFailures\n    lastDeliveryAt\n    warnings\n    createdAt\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookForEdit($id: ID!) {\n    webhook(id: $id) {\n      ...WebhookFull\n    }\n  }\n"): (typeof documents)["\n  query WebhookForEdit($id: ID!) {\n    webhook(id: $id) {\n      ...WebhookFull\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) {\n      webhook {\n        ...WebhookFull\n      }\n      secret\n    }\n  }\n"): (typeof documents)["\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) {\n      webhook {\n        ...WebhookFull\n      }\n      secret\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {\n    updateWebhook(id: $id, input: $input) {\n      ...WebhookFull\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {\n    updateWebhook(id: $id, input: $input) {\n      ...WebhookFull\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookStats($id: ID!, $since: Time!, $interval: StatsInterval) {\n    webhookStats(id: $id, since: $since, interval: $interval) {\n      start\n      succeeded\n      failed\n      durationMs\n    }\n  }\n"): (typeof documents)["\n  query WebhookStats($id: ID!, $since: Time!, $interval: StatsInterval) {\n    webhookStats(id: $id, since: $since, interval: $interval) {\n      start\n      succeeded\n      failed\n      durationMs\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WebhookRow on Webhook {\n    id\n    url\n    description\n    events\n    format\n    enabled\n    health\n    disabledReason\n    consecutiveFailures\n    lastDeliveryAt\n    warnings\n  }\n"): (typeof documents)["\n  fragment WebhookRow on Webhook {\n    id\n    url\n    description\n    events\n    format\n    enabled\n    health\n    disabledReason\n    consecutiveFailures\n    lastDeliveryAt\n    warnings\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Webhooks($first: Int, $after: String, $filter: WebhookFilter) {\n    webhooks(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          ...WebhookRow\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query Webhooks($first: Int, $after: String, $filter: WebhookFilter) {\n    webhooks(first: $first, after: $after, filter: $filter) {\n      edges {\n        cursor\n        node {\n          ...WebhookRow\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      totalCount\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;