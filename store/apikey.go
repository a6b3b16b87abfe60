package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookline/hookline/model"
)

// CreateAPIKey stores a new API key; k.ID and k.Hash must be set.
func (s *Store) CreateAPIKey(ctx context.Context, k *model.APIKey) error {
	return translate("create api key", s.transaction(ctx, func(tx *gorm.DB) error {
		if err := addOwner(tx, k.Owner); err != nil {
			return err
		}
		return tx.Create(k).Error
	}))
}

// Why a key is refused: the messages of its UNAUTHENTICATED errors, and the
// close reasons of its open connections.
const (
	keyRevoked = "invalid or revoked API key"
	keyExpired = "API key expired"
)

// keyCacheTTL is how long a looked-up API key is trusted without asking the
// database again; a key revoked through another process stops working
// within this time (at once through this one).
const keyCacheTTL = 2 * time.Second

type cachedKey struct {
	key     *model.APIKey
	expires time.Time
}

// APIKeyByHash returns the unrevoked, unexpired key with that hash, or
// UNAUTHENTICATED, and notes when it was used (at most once a minute).
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*model.APIKey, error) {
	s.keyMu.Lock()
	c, ok := s.keys[hash]
	s.keyMu.Unlock()
	k := c.key
	if !ok || !time.Now().Before(c.expires) {
		var err error
		if k, err = s.apiKeyByHash(ctx, hash); err != nil {
			return nil, err
		}
		s.keyMu.Lock()
		if len(s.keys) > 10000 { // bounded: start over rather than grow
			clear(s.keys)
		}
		s.keys[hash] = cachedKey{key: k, expires: time.Now().Add(keyCacheTTL)}
		s.keyMu.Unlock()
	}
	if k.Expired(time.Now()) {
		return nil, model.Errorf(model.CodeUnauthenticated, keyExpired)
	}
	s.touch(ctx, k)
	return k, nil
}

// touch records that k was used: at most once a minute per key, so that
// authentication costs no write on most requests. A failure is logged.
func (s *Store) touch(ctx context.Context, k *model.APIKey) {
	t := now()
	s.keyMu.Lock()
	last, ok := s.touched[k.ID]
	if !ok && k.LastUsedAt != nil {
		last, ok = *k.LastUsedAt, true
	}
	if ok && t.Sub(last) < time.Minute {
		s.keyMu.Unlock()
		return
	}
	if len(s.touched) > 10000 {
		clear(s.touched)
	}
	s.touched[k.ID] = t
	s.keyMu.Unlock()
	err := s.writing(ctx, func() error {
		return s.db.WithContext(ctx).Model(&model.APIKey{}).
			Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", k.ID, t.Add(-time.Minute)).
			Update("last_used_at", t).Error
	})
	if err != nil {
		s.log.WarnContext(ctx, "note API key use", "key", k.ID, "err", err)
	}
}

func (s *Store) apiKeyByHash(ctx context.Context, hash string) (*model.APIKey, error) {
	var k model.APIKey
	err := s.db.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL", hash).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, model.Errorf(model.CodeUnauthenticated, keyRevoked)
	}
	if err != nil {
		return nil, fmt.Errorf("look up api key: %w", err)
	}
	return &k, nil
}

// APIKey returns the unrevoked key with that ID. An empty owner matches any
// owner (for admins); otherwise another owner's key is NOT_FOUND.
func (s *Store) APIKey(ctx context.Context, owner, id string) (*model.APIKey, error) {
	q := s.db.WithContext(ctx).Where("id = ? AND revoked_at IS NULL", id)
	if owner != "" {
		q = q.Where("owner = ?", owner)
	}
	var k model.APIKey
	if err := q.Take(&k).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, model.Errorf(model.CodeNotFound, "API key %s not found", id)
		}
		return nil, fmt.Errorf("get api key: %w", err)
	}
	return &k, nil
}

// RevokeAPIKey revokes the key with that ID, or returns NOT_FOUND. Revoking
// the last admin key is refused, so that no one is locked out.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	var revokedHash string
	defer func() {
		// After the commit, so that no lookup can cache the key again.
		if revokedHash != "" {
			s.keyMu.Lock()
			delete(s.keys, revokedHash)
			s.keyMu.Unlock()
		}
	}()
	return s.transaction(ctx, func(tx *gorm.DB) error {
		var k model.APIKey
		err := tx.Where("id = ? AND revoked_at IS NULL", id).Take(&k).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return model.Errorf(model.CodeNotFound, "API key %s not found", id)
		}
		if err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		if k.IsAdmin() {
			var admins int64
			err := tx.Model(&model.APIKey{}).Where("role = ? AND revoked_at IS NULL", model.ApiKeyRoleAdmin).Count(&admins).Error
			if err != nil {
				return fmt.Errorf("revoke api key: %w", err)
			}
			if admins <= 1 {
				return model.InvalidField("id", "is the last admin key; create another admin key first")
			}
		}
		t := now()
		if err := tx.Model(&k).Update("revoked_at", &t).Error; err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		revokedHash = k.Hash
		return nil
	})
}

// CountAPIKeys counts every API key ever created, revoked ones included.
func (s *Store) CountAPIKeys(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&model.APIKey{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	return n, nil
}

// EnsureAPIKey stores k unless a key with the same hash exists; a revoked one
// is reinstated. It lets a configured admin key work without being generated.
func (s *Store) EnsureAPIKey(ctx context.Context, k *model.APIKey) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		var existing model.APIKey
		err := tx.Where("hash = ?", k.Hash).Take(&existing).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if err := addOwner(tx, k.Owner); err != nil {
				return err
			}
			return translate("create api key", tx.Create(k).Error)
		case err != nil:
			return fmt.Errorf("ensure api key: %w", err)
		}
		return tx.Model(&existing).Updates(map[string]any{"revoked_at": nil, "role": model.ApiKeyRoleAdmin}).Error
	})
}

// RefusedAPIKeys returns, of the keys with these IDs, those that may no
// longer be used, each with the reason: "invalid or revoked API key" or
// "API key expired". It forgets their cached lookups, so that this process
// refuses them at once.
func (s *Store) RefusedAPIKeys(ctx context.Context, ids []string) (map[string]string, error) {
	var keys []model.APIKey
	if err := s.db.WithContext(ctx).Select("id", "hash", "revoked_at", "expires_at").Where("id IN ?", ids).Find(&keys).Error; err != nil {
		return nil, fmt.Errorf("check api keys: %w", err)
	}
	refused := make(map[string]string)
	for _, id := range ids {
		refused[id] = keyRevoked
	}
	t := time.Now()
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	for _, k := range keys {
		switch {
		case k.RevokedAt != nil:
		case k.Expired(t):
			refused[k.ID] = keyExpired
		default:
			delete(refused, k.ID)
			continue
		}
		delete(s.keys, k.Hash)
	}
	return refused, nil
}
