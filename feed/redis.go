package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/hookline/hookline/backoff"
	"github.com/hookline/hookline/model"
	"github.com/redis/go-redis/v9"
)

// DefaultRedisChannel is the Redis Pub/Sub channel RedisBrokers share.
const DefaultRedisChannel = "hookline:changes"

// Redis fans messages out to subscribers in every process connected to
// one Redis: Notify sends to Redis only, and each broker's single Pub/Sub
// connection receives every message, its own included, and hands it to its
// local subscribers. Messages published in sequence by one broker arrive in
// that order. Messages published while a broker is cut off from Redis are
// lost to its subscribers; go-redis reconnects and resubscribes.
type Redis struct {
	mem     *Local
	client  *redis.Client
	ps      *redis.PubSub
	channel string
	log     *slog.Logger

	publishTimeout time.Duration
	// quietInterval is how long the Pub/Sub connection may stay silent
	// before the broker pings it; a ping unanswered within pongTimeout
	// makes go-redis drop the connection and dial again.
	quietInterval time.Duration
	pongTimeout   time.Duration

	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when the receive loop returns
	closeOnce sync.Once
	closeErr  error
}

var _ Feed = (*Redis)(nil)

// RedisOption configures a Redis.
type RedisOption func(*Redis)

// WithRedisChannel makes the broker publish and listen on channel instead of
// DefaultRedisChannel. Brokers see each other only on the same channel.
func WithRedisChannel(channel string) RedisOption {
	return func(b *Redis) { b.channel = channel }
}

// NewRedis connects to the Redis at redisURL (redis://, rediss:// or
// unix://), checks it answers and subscribes to the broker's channel. It
// returns once the subscription is active, so messages published after it
// returns reach this broker's subscribers. It fails, naming the address, if
// Redis cannot be reached. Close the broker to release the connections and
// the receive goroutine.
func NewRedis(ctx context.Context, redisURL string, log *slog.Logger, opts ...RedisOption) (*Redis, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		// url.Error repeats the URL, and with it any password.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis broker: parse URL: %w", err)
	}
	// Let the context bound every command, so Notify's timeout holds.
	opt.ContextTimeoutEnabled = true
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Redis{
		mem:            NewLocal(),
		channel:        DefaultRedisChannel,
		log:            log,
		publishTimeout: 2 * time.Second,
		quietInterval:  30 * time.Second,
		pongTimeout:    5 * time.Second,
		stop:           make(chan struct{}),
		done:           make(chan struct{}),
	}
	for _, o := range opts {
		o(b)
	}
	if b.channel == "" {
		return nil, errors.New("redis broker: empty channel name")
	}

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b.client = redis.NewClient(opt)
	if err := b.client.Ping(ctx).Err(); err != nil {
		b.client.Close()
		return nil, fmt.Errorf("redis broker: ping redis at %s: %w", opt.Addr, err)
	}
	b.ps = b.client.Subscribe(ctx)
	if err := b.subscribe(ctx); err != nil {
		b.ps.Close()
		b.client.Close()
		return nil, fmt.Errorf("redis broker: subscribe to %q at %s: %w", b.channel, opt.Addr, err)
	}
	go b.receive()
	return b, nil
}

// subscribe subscribes b.ps to b.channel and waits for Redis to confirm.
func (b *Redis) subscribe(ctx context.Context) error {
	if err := b.ps.Subscribe(ctx, b.channel); err != nil {
		return err
	}
	v, err := b.ps.Receive(ctx)
	if err != nil {
		return err
	}
	if s, ok := v.(*redis.Subscription); !ok || s.Kind != "subscribe" || s.Channel != b.channel {
		return fmt.Errorf("unexpected reply %v", v)
	}
	return nil
}

// Notify sends msg to Redis, from where every Redis on the channel,
// this one included, hands it to its subscribers of msg.Owner. It waits for
// Redis at most the publish timeout (2s by default) and never for a
// subscriber. It fails on a malformed message, after Close, and when Redis
// does not take the message in time.
func (b *Redis) Notify(ctx context.Context, msg model.Change) error {
	if err := validate(&msg); err != nil {
		return err
	}
	select {
	case <-b.stop:
		return ErrClosed
	default:
	}
	data, err := json.Marshal(newWireMessage(redact(msg)))
	if err != nil {
		return fmt.Errorf("publish: encode message: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, b.publishTimeout)
	defer cancel()
	if err := b.client.Publish(ctx, b.channel, data).Err(); err != nil {
		return fmt.Errorf("publish to redis channel %q: %w", b.channel, err)
	}
	return nil
}

// Watch returns a stream of owner's changes from every process on the
// channel; see Feed.
func (b *Redis) Watch(ctx context.Context, owner string, buffer int) (*Stream, error) {
	return b.mem.Watch(ctx, owner, buffer)
}

// Close stops the receive loop and waits for it, ends every subscription and
// closes the Redis connections. It is safe to call more than once.
func (b *Redis) Close() error {
	b.closeOnce.Do(func() {
		close(b.stop)
		psErr := b.ps.Close() // interrupts a blocked Receive
		<-b.done
		b.mem.Close()
		b.closeErr = errors.Join(psErr, b.client.Close())
		if b.closeErr != nil {
			b.closeErr = fmt.Errorf("redis broker: close: %w", b.closeErr)
		}
	})
	return b.closeErr
}

// receive hands every message from Redis to the local subscribers until
// Close. go-redis redials and resubscribes after a connection error; the
// loop logs the error and backs off while Redis stays unreachable.
func (b *Redis) receive() {
	defer close(b.done)
	var (
		pinged   bool // a ping is out and nothing has arrived since
		failures int  // consecutive receive errors
	)
	for {
		var (
			v   any
			err error
		)
		if pinged {
			// A deadline in the context, unlike ReceiveTimeout's, makes
			// go-redis treat a timeout as a dead connection and redial.
			ctx, cancel := context.WithTimeout(context.Background(), b.pongTimeout)
			v, err = b.ps.Receive(ctx)
			cancel()
		} else {
			v, err = b.ps.ReceiveTimeout(context.Background(), b.quietInterval)
		}
		select {
		case <-b.stop:
			return
		default:
		}
		if err != nil {
			if errors.Is(err, redis.ErrClosed) {
				return
			}
			if !pinged && isTimeout(err) {
				// Quiet line: ask for a pong to prove it is alive.
				if err := b.ps.Ping(context.Background()); err != nil {
					b.log.Warn("redis broker: ping", "channel", b.channel, "err", err)
				}
				pinged = true
				continue
			}
			pinged = false
			failures++
			b.log.Error("redis broker: receive failed; reconnecting", "channel", b.channel, "failures", failures, "err", err)
			if !b.wait(backoff.Exponential(failures, 100*time.Millisecond, 5*time.Second)) {
				return
			}
			continue
		}
		pinged = false
		if failures > 0 {
			b.log.Info("redis broker: receiving again", "channel", b.channel, "after_failures", failures)
			failures = 0
		}
		m, ok := v.(*redis.Message)
		if !ok {
			continue // subscription confirmations and pongs
		}
		var w wireMessage
		if err := json.Unmarshal([]byte(m.Payload), &w); err != nil {
			b.log.Error("redis broker: decode message", "channel", b.channel, "err", err)
			continue
		}
		msg := w.message()
		if err := validate(&msg); err != nil {
			b.log.Error("redis broker: invalid message", "channel", b.channel, "err", err)
			continue
		}
		if err := b.mem.publish(&msg); err != nil {
			return // closed
		}
	}
}

// wait sleeps for d or until Close, reporting whether the broker is still open.
func (b *Redis) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.stop:
		return false
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// wireMessage is a model.Change as it travels through Redis. The webhook's
// secrets are not serialised, so it says which ones are set, and the
// receiver restores the placeholders that answer HasBearerToken and
// HasSharedToken.
type wireMessage struct {
	model.Change
	Secrets *wireSecrets `json:"secrets,omitempty"`
}

type wireSecrets struct {
	Secret         bool `json:"secret,omitempty"`
	PreviousSecret bool `json:"previousSecret,omitempty"`
	BearerToken    bool `json:"bearerToken,omitempty"`
	SharedToken    bool `json:"sharedToken,omitempty"`
}

func newWireMessage(m model.Change) wireMessage {
	w := wireMessage{Change: m}
	if h := m.Webhook; h != nil {
		w.Secrets = &wireSecrets{
			Secret:         h.Secret != "",
			PreviousSecret: h.PreviousSecret != "",
			BearerToken:    h.BearerToken != "",
			SharedToken:    h.SharedToken != "",
		}
	}
	return w
}

func (w *wireMessage) message() model.Change {
	m := w.Change
	if h, s := m.Webhook, w.Secrets; h != nil && s != nil {
		for _, f := range []struct {
			set bool
			v   *string
		}{{s.Secret, &h.Secret}, {s.PreviousSecret, &h.PreviousSecret}, {s.BearerToken, &h.BearerToken}, {s.SharedToken, &h.SharedToken}} {
			if f.set {
				*f.v = redactedSecret
			} else {
				*f.v = ""
			}
		}
	}
	return m
}
