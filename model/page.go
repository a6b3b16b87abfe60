package model

import "context"

// Page limits.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// PageArgs are Relay cursor pagination arguments.
type PageArgs struct {
	First  *int
	After  *string
	Last   *int
	Before *string
}

// PageInfo is Relay's page information.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// Counter counts the rows a connection pages through; it runs only when a
// client asks for totalCount.
type Counter func(context.Context) (int, error)

// WebhookConnection is a page of webhooks.
type WebhookConnection struct {
	Edges    []*WebhookEdge
	PageInfo *PageInfo
	Count    Counter
}

// TotalCount counts every webhook the connection pages through.
func (c *WebhookConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// WebhookEdge is a webhook and its cursor.
type WebhookEdge struct {
	Cursor string
	Node   *Webhook
}

// WebhookFilter narrows a list of webhooks.
type WebhookFilter struct {
	Event       *string
	Enabled     *bool
	Health      *HealthStatus
	URLContains *string
}

// EventConnection is a page of events.
type EventConnection struct {
	Edges    []*EventEdge
	PageInfo *PageInfo
	Count    Counter
}

// TotalCount counts every event the connection pages through.
func (c *EventConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// EventEdge is an event and its cursor.
type EventEdge struct {
	Cursor string
	Node   *Event
}

// DeliveryConnection is a page of deliveries.
type DeliveryConnection struct {
	Edges    []*DeliveryEdge
	PageInfo *PageInfo
	Count    Counter
}

// TotalCount counts every delivery the connection pages through.
func (c *DeliveryConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// DeliveryEdge is a delivery and its cursor.
type DeliveryEdge struct {
	Cursor string
	Node   *Delivery
}

// APIKeyConnection is a page of API keys.
type APIKeyConnection struct {
	Edges    []*APIKeyEdge
	PageInfo *PageInfo
	Count    Counter
}

// TotalCount counts every key the connection pages through.
func (c *APIKeyConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// APIKeyEdge is an API key and its cursor.
type APIKeyEdge struct {
	Cursor string
	Node   *APIKey
}

// APIKeyFilter narrows a list of API keys.
type APIKeyFilter struct {
	Owner *string
}

// OwnerConnection is a page of owners.
type OwnerConnection struct {
	Edges    []*OwnerEdge
	PageInfo *PageInfo
	Count    Counter
}

// TotalCount counts every owner the connection pages through.
func (c *OwnerConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// OwnerEdge is an owner and its cursor.
type OwnerEdge struct {
	Cursor string
	Node   *Owner
}

// AttemptsLimit checks Delivery.attempts' last argument: 1 to MaxPageSize,
// DefaultPageSize when absent.
func AttemptsLimit(last *int) (int, error) {
	if last == nil {
		return DefaultPageSize, nil
	}
	if *last < 1 || *last > MaxPageSize {
		return 0, InvalidField("last", "must be between 1 and %d", MaxPageSize)
	}
	return *last, nil
}
