package feed

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hookline/hookline/model"
)

// Stream is a stream of one owner's messages. Receive from C until it
// is closed, then call Err to learn why it ended. The values in a model.Change are
// shared with other subscribers: do not modify them.
type Stream struct {
	// C delivers the messages in the order each publisher published them.
	C <-chan *model.Change

	ch      chan *model.Change
	owner   string
	broker  *Local
	dropped atomic.Bool   // a send failed: deliver nothing more
	stop    func() bool   // unregisters the ctx watcher
	once    sync.Once     // guards ending
	done    chan struct{} // closed once ended; err is set before
	err     error
}

// Err returns why the subscription ended: nil while it is open and after its
// context ended or Close was called, ErrSlowSubscriber after it fell behind.
func (s *Stream) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close ends the subscription and closes C. It is safe to call more than
// once and concurrently with Notify.
func (s *Stream) Close() { s.end(nil) }

// end removes s from its broker and closes C, once. C is closed under the
// broker's write lock, so no publisher can be sending on it.
func (s *Stream) end(err error) {
	s.once.Do(func() {
		b := s.broker
		b.mu.Lock()
		s.stop() // set under the same lock by Watch
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

// Local fans messages out to subscribers in this process. It is safe
// for concurrent use.
type Local struct {
	mu     sync.RWMutex
	subs   map[string]map[*Stream]struct{}
	closed bool
}

var _ Feed = (*Local)(nil)

// NewLocal returns an empty in-process broker.
func NewLocal() *Local {
	return &Local{subs: make(map[string]map[*Stream]struct{})}
}

// Notify hands c to every watcher of c.Owner whose buffer has room and
// drops, with ErrSlowSubscriber, each one whose buffer is full. It never
// blocks on a watcher. The feed keeps c's values: do not modify them after
// Notify. It fails on a malformed message and after Close.
func (b *Local) Notify(_ context.Context, c model.Change) error {
	if err := validate(&c); err != nil {
		return err
	}
	redacted := redact(c)
	return b.publish(&redacted)
}

// publish fans msg out as it is.
func (b *Local) publish(msg *model.Change) error {
	var slow []*Stream
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
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

// Watch returns a stream of owner's messages that holds up to
// buffer undelivered messages. It ends when ctx ends, when it is closed, when
// it falls behind by more than buffer, or when the broker closes.
func (b *Local) Watch(ctx context.Context, owner string, buffer int) (*Stream, error) {
	if buffer <= 0 {
		return nil, fmt.Errorf("watch: buffer must be positive, got %d", buffer)
	}
	// Pointers: every subscriber shares one copy of a message, and an idle
	// subscriber's buffer costs 8 bytes a slot rather than a model.Change's 40.
	ch := make(chan *model.Change, buffer)
	s := &Stream{C: ch, ch: ch, owner: owner, broker: b, done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	subs := b.subs[owner]
	if subs == nil {
		subs = make(map[*Stream]struct{})
		b.subs[owner] = subs
	}
	subs[s] = struct{}{}
	// Registered under the lock, so end (which calls stop) sees it. No
	// goroutine runs until ctx ends; end unregisters it.
	s.stop = context.AfterFunc(ctx, func() { s.end(nil) })
	b.mu.Unlock()
	return s, nil
}

// Close ends every subscription; later Notify and Watch calls fail with
// ErrClosed.
func (b *Local) Close() error {
	b.mu.Lock()
	b.closed = true
	var all []*Stream
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
