package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hookline/hookline/model"
)

// Message is one change, as subscribers see it. Exactly one of Attempt,
// Delivery, Webhook is set.
//
// A Webhook never carries its secrets: Publish replaces Secret,
// PreviousSecret, BearerToken and SharedToken, when set, with a placeholder,
// so HasBearerToken and HasSharedToken still answer and no secret reaches a
// subscriber or Redis.
type Message struct {
	Owner    string                 `json:"owner"`
	Attempt  *model.DeliveryAttempt `json:"attempt,omitempty"`
	Delivery *model.Delivery        `json:"delivery,omitempty"`
	Webhook  *model.Webhook         `json:"webhook,omitempty"`
}

// Broker fans messages out to subscribers of the message's owner.
type Broker interface {
	// Publish hands msg to every subscriber of msg.Owner without blocking on any of them.
	Publish(ctx context.Context, msg Message) error
	// Subscribe returns a subscription to owner's messages with a buffer of
	// size buffer (>0). It ends when ctx ends, when Close is called on it, or
	// when the subscriber falls more than buffer messages behind; then C is
	// closed and Err says why (nil for ctx end / Close, ErrSlowSubscriber for
	// eviction).
	Subscribe(ctx context.Context, owner string, buffer int) (*Subscription, error)
	// Close stops the broker and ends all subscriptions.
	Close() error
}

// ErrSlowSubscriber ends a subscription whose buffer was full when a message
// arrived for it.
var ErrSlowSubscriber = errors.New("subscriber too slow: it fell behind by more than its buffer and was dropped; resubscribe and catch up with Query.deliveries")

// ErrBrokerClosed is returned by Publish and Subscribe after Close.
var ErrBrokerClosed = errors.New("broker closed")

// redactedSecret stands in for a webhook secret in a Message.
const redactedSecret = "REDACTED"

// validate checks that m can be published.
func (m *Message) validate() error {
	if m.Owner == "" {
		return errors.New("publish: message has no owner")
	}
	n := 0
	if m.Attempt != nil {
		n++
	}
	if m.Delivery != nil {
		n++
	}
	if m.Webhook != nil {
		n++
	}
	if n != 1 {
		return fmt.Errorf("publish: message must carry exactly one of attempt, delivery, webhook; it carries %d", n)
	}
	return nil
}

// redact returns m with a copy of its webhook, if any, whose secrets are
// replaced by redactedSecret. The caller's webhook is left untouched.
func (m Message) redact() Message {
	if m.Webhook == nil {
		return m
	}
	w := *m.Webhook
	for _, s := range []*string{&w.Secret, &w.PreviousSecret, &w.BearerToken, &w.SharedToken} {
		if *s != "" {
			*s = redactedSecret
		}
	}
	m.Webhook = &w
	return m
}

// Subscription is a stream of one owner's messages. Receive from C until it
// is closed, then call Err to learn why it ended. The values in a Message are
// shared with other subscribers: do not modify them.
type Subscription struct {
	// C delivers the messages in the order each publisher published them.
	C <-chan *Message

	ch      chan *Message
	owner   string
	broker  *MemoryBroker
	dropped atomic.Bool   // a send failed: deliver nothing more
	stop    func() bool   // unregisters the ctx watcher
	once    sync.Once     // guards ending
	done    chan struct{} // closed once ended; err is set before
	err     error
}

// Err returns why the subscription ended: nil while it is open and after its
// context ended or Close was called, ErrSlowSubscriber after it fell behind.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close ends the subscription and closes C. It is safe to call more than
// once and concurrently with Publish.
func (s *Subscription) Close() { s.end(nil) }

// end removes s from its broker and closes C, once. C is closed under the
// broker's write lock, so no publisher can be sending on it.
func (s *Subscription) end(err error) {
	s.once.Do(func() {
		b := s.broker
		b.mu.Lock()
		s.stop() // set under the same lock by Subscribe
		if subs := b.subs[s.owner]; subs != nil {
			delete(subs, s)
			if len(subs) == 0 {
				delete(b.subs, s.owner)
			}
		}
		s.err = err
		close(s.ch)
		b.mu.Unlock()
		close(s.done)
	})
}

// MemoryBroker fans messages out to subscribers in this process. It is safe
// for concurrent use.
type MemoryBroker struct {
	mu     sync.RWMutex
	subs   map[string]map[*Subscription]struct{}
	closed bool
}

var _ Broker = (*MemoryBroker)(nil)

// NewMemoryBroker returns an empty in-process broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{subs: make(map[string]map[*Subscription]struct{})}
}

// Publish hands msg to every subscriber of msg.Owner whose buffer has room
// and drops, with ErrSlowSubscriber, each one whose buffer is full. It never
// blocks on a subscriber. The broker keeps msg's values: do not modify them
// after Publish. It fails on a malformed message and after Close.
func (b *MemoryBroker) Publish(_ context.Context, msg Message) error {
	if err := msg.validate(); err != nil {
		return err
	}
	redacted := msg.redact()
	return b.publish(&redacted)
}

// publish fans msg out as it is.
func (b *MemoryBroker) publish(msg *Message) error {
	var slow []*Subscription
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrBrokerClosed
	}
	for s := range b.subs[msg.Owner] {
		if s.dropped.Load() {
			continue
		}
		select {
		case s.ch <- msg:
		default:
			// Once a message is lost, later ones must not follow it.
			s.dropped.Store(true)
			slow = append(slow, s)
		}
	}
	b.mu.RUnlock()
	for _, s := range slow {
		s.end(ErrSlowSubscriber)
	}
	return nil
}

// Subscribe returns a subscription to owner's messages that holds up to
// buffer undelivered messages. It ends when ctx ends, when it is closed, when
// it falls behind by more than buffer, or when the broker closes.
func (b *MemoryBroker) Subscribe(ctx context.Context, owner string, buffer int) (*Subscription, error) {
	if buffer <= 0 {
		return nil, fmt.Errorf("subscribe: buffer must be positive, got %d", buffer)
	}
	// Pointers: every subscriber shares one copy of a message, and an idle
	// subscriber's buffer costs 8 bytes a slot rather than a Message's 40.
	ch := make(chan *Message, buffer)
	s := &Subscription{C: ch, ch: ch, owner: owner, broker: b, done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrBrokerClosed
	}
	subs := b.subs[owner]
	if subs == nil {
		subs = make(map[*Subscription]struct{})
		b.subs[owner] = subs
	}
	subs[s] = struct{}{}
	// Registered under the lock, so end (which calls stop) sees it. No
	// goroutine runs until ctx ends; end unregisters it.
	s.stop = context.AfterFunc(ctx, func() { s.end(nil) })
	b.mu.Unlock()
	return s, nil
}

// Close ends every subscription; later Publish and Subscribe calls fail with
// ErrBrokerClosed.
func (b *MemoryBroker) Close() error {
	b.mu.Lock()
	b.closed = true
	var all []*Subscription
	for _, subs := range b.subs {
		for s := range subs {
			all = append(all, s)
		}
	}
	b.mu.Unlock()
	for _, s := range all {
		s.end(nil)
	}
	return nil
}
