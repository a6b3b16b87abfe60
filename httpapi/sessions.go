package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// KeyCheckInterval is how often a process checks the keys of its open
// websockets and SSE streams, so that a key revoked through any process,
// or expired, stops streaming within about this long.
const KeyCheckInterval = time.Second

// keyChecker tells which of the keys with these IDs may no longer be used,
// and why; *store.Store implements it.
type keyChecker interface {
	RefusedAPIKeys(ctx context.Context, ids []string) (map[string]string, error)
}

// sessions are the open websockets and SSE streams of each API key. While
// any is open, a loop checks their keys every KeyCheckInterval and ends the
// sessions of a key that was revoked or has expired.
type sessions struct {
	keys keyChecker
	log  *slog.Logger

	mu      sync.Mutex
	byKey   map[string]map[*session]struct{}
	polling bool
}

// session is one websocket or SSE stream; end closes it with a reason.
type session struct {
	keyID string
	end   func(reason string)
	once  sync.Once
}

func newSessions(keys keyChecker, log *slog.Logger) *sessions {
	return &sessions{keys: keys, log: log, byKey: map[string]map[*session]struct{}{}}
}

// open registers a session of keyID; close it with the func returned.
func (s *sessions) open(keyID string, end func(reason string)) (closed func()) {
	ss := &session{keyID: keyID, end: end}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byKey[keyID] == nil {
		s.byKey[keyID] = map[*session]struct{}{}
	}
	s.byKey[keyID][ss] = struct{}{}
	if !s.polling {
		s.polling = true
		go s.poll()
	}
	return func() { s.remove(ss) }
}

func (s *sessions) remove(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byKey[ss.keyID], ss)
	if len(s.byKey[ss.keyID]) == 0 {
		delete(s.byKey, ss.keyID)
	}
}

// poll checks the open sessions' keys until no session is left.
func (s *sessions) poll() {
	t := time.NewTicker(KeyCheckInterval)
	defer t.Stop()
	for range t.C {
		s.mu.Lock()
		if len(s.byKey) == 0 {
			s.polling = false
			s.mu.Unlock()
			return
		}
		ids := make([]string, 0, len(s.byKey))
		for id := range s.byKey {
			ids = append(ids, id)
		}
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), KeyCheckInterval)
		refused, err := s.keys.RefusedAPIKeys(ctx, ids)
		cancel()
		if err != nil {
			s.log.Warn("check the keys of open connections", "err", err)
			continue
		}
		for id, reason := range refused {
			s.endKey(id, reason)
		}
	}
}

// endKey ends every session of the key.
func (s *sessions) endKey(keyID, reason string) {
	s.mu.Lock()
	var ending []*session
	for ss := range s.byKey[keyID] {
		ending = append(ending, ss)
	}
	delete(s.byKey, keyID)
	s.mu.Unlock()
	for _, ss := range ending {
		ss.once.Do(func() { ss.end(reason) })
	}
}

type websocketSlotKey struct{}

// websocketSlot carries a websocket connection from its upgrade to its
// connection_init, where the key it belongs to is known.
type websocketSlot struct {
	mu   sync.Mutex
	conn transport.WebsocketConn
}

// withWebsocketSlot prepares a websocket upgrade request to carry its
// connection.
func withWebsocketSlot(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), websocketSlotKey{}, &websocketSlot{}))
}

// closeWebsocket closes the connection of ctx's websocket with code and
// reason; close reasons are at most 123 bytes.
func closeWebsocket(ctx context.Context, code int, reason string) {
	slot, _ := ctx.Value(websocketSlotKey{}).(*websocketSlot)
	if slot == nil {
		return
	}
	slot.mu.Lock()
	conn := slot.conn
	slot.mu.Unlock()
	if conn != nil {
		conn.WriteClose(code, reason[:min(len(reason), 123)])
	}
}

// trackedWebsockets accepts websockets like impl and keeps each connection
// in its request's slot.
type trackedWebsockets struct {
	impl transport.WebsocketImplementation
}

func (t trackedWebsockets) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := t.impl.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	if slot, _ := r.Context().Value(websocketSlotKey{}).(*websocketSlot); slot != nil {
		slot.mu.Lock()
		slot.conn = conn
		slot.mu.Unlock()
	}
	return conn, nil
}
