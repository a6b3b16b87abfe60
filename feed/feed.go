// Package feed carries changes (attempts recorded, deliveries and webhooks
// changed) to the subscribers that watch an owner: in process with Local, or
// across processes through Redis with Redis. Writers Notify; subscribers
// Watch.
package feed

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hookline/hookline/model"
)

// Feed fans changes out to the watchers of the change's owner.
type Feed interface {
	// Notify hands c to every watcher of c.Owner without blocking on any of
	// them. A Webhook never reaches a watcher with its secrets: Secret,
	// PreviousSecret, BearerToken and SharedToken, when set, and the values
	// of its secret headers are replaced with a placeholder, so
	// HasBearerToken and HasSharedToken still answer.
	Notify(ctx context.Context, c model.Change) error
	// Watch returns a stream of owner's changes with a buffer of size
	// buffer (>0). It ends when ctx ends, when Close is called on it, or
	// when the watcher falls more than buffer changes behind; then C is
	// closed and Err says why (nil for ctx end / Close, ErrSlowSubscriber
	// for eviction).
	Watch(ctx context.Context, owner string, buffer int) (*Stream, error)
	// Close stops the feed and ends all streams.
	Close() error
}

// ErrSlowSubscriber ends a stream whose buffer was full when a change
// arrived for it.
var ErrSlowSubscriber = errors.New("subscriber too slow: it fell behind by more than its buffer and was dropped; resubscribe and catch up with Query.deliveries")

// ErrClosed is returned by Notify and Watch after Close.
var ErrClosed = errors.New("feed closed")

// redactedSecret stands in for a webhook secret in a change.
const redactedSecret = "REDACTED"

// validate checks that c can be sent.
func validate(c *model.Change) error {
	if c.Owner == "" {
		return errors.New("notify: change has no owner")
	}
	n := 0
	if c.Attempt != nil {
		n++
	}
	if c.Delivery != nil {
		n++
	}
	if c.Webhook != nil {
		n++
	}
	if n != 1 {
		return fmt.Errorf("notify: change must carry exactly one of attempt, delivery, webhook; it carries %d", n)
	}
	return nil
}

// redact returns c with a copy of its webhook, if any, whose secrets and
// secret header values are replaced by redactedSecret. The caller's
// webhook is left untouched.
func redact(c model.Change) model.Change {
	if c.Webhook == nil {
		return c
	}
	w := *c.Webhook
	for _, s := range []*string{&w.Secret, &w.PreviousSecret, &w.BearerToken, &w.SharedToken} {
		if *s != "" {
			*s = redactedSecret
		}
	}
	w.Headers = slices.Clone(w.Headers)
	for i := range w.Headers {
		if w.Headers[i].Secret {
			w.Headers[i].Value = redactedSecret
		}
	}
	c.Webhook = &w
	return c
}
