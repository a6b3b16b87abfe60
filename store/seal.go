package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/hookline/hookline/model"
)

// sealedPrefix marks a value encrypted by a sealer.
const sealedPrefix = "enc:v1:"

// sealer encrypts webhook secrets, tokens and secret header values at rest with AES-256-GCM, the
// row ID as additional data so a value cannot be moved to another row. A
// nil sealer stores them as they are.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(rowID, plain string) string {
	if s == nil || plain == "" {
		return plain
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(rowID))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// open decrypts a sealed value; plain values written before a key was
// configured pass through.
func (s *sealer) open(rowID, stored string) (string, error) {
	enc, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if s == nil {
		return "", errors.New("value is encrypted but HOOKLINE_SECRET_KEY is not set")
	}
	raw, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", errors.New("malformed encrypted value")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(rowID))
	if err != nil {
		return "", errors.New("cannot decrypt value: wrong HOOKLINE_SECRET_KEY?")
	}
	return string(plain), nil
}

// sealWebhook returns a copy of w with its secrets, tokens and secret
// header values encrypted; w itself is left as it is.
func (s *Store) sealWebhook(w *model.Webhook) *model.Webhook {
	if s.sealer == nil {
		return w
	}
	c := *w
	c.Secret = s.sealer.seal(w.ID, w.Secret)
	c.PreviousSecret = s.sealer.seal(w.ID, w.PreviousSecret)
	c.BearerToken = s.sealer.seal(w.ID, w.BearerToken)
	c.SharedToken = s.sealer.seal(w.ID, w.SharedToken)
	c.Headers = make([]model.Header, len(w.Headers))
	for i, h := range w.Headers {
		if h.Secret {
			h.Value = s.sealer.seal(w.ID, h.Value)
		}
		c.Headers[i] = h
	}
	return &c
}

// openWebhooks decrypts the secrets, tokens and secret header values of
// webhooks read from the database, and marks their credential headers
// secret (rows written before that rule have them unmarked). Only secret
// header values are opened: a plain header may hold any text, the sealed
// prefix included.
func (s *Store) openWebhooks(hooks ...*model.Webhook) error {
	for _, w := range hooks {
		w.MarkSecretHeaders()
		fields := []*string{&w.Secret, &w.PreviousSecret, &w.BearerToken, &w.SharedToken}
		for i := range w.Headers {
			if w.Headers[i].Secret {
				fields = append(fields, &w.Headers[i].Value)
			}
		}
		for _, f := range fields {
			v, err := s.sealer.open(w.ID, *f)
			if err != nil {
				return fmt.Errorf("webhook %s: %w", w.ID, err)
			}
			*f = v
		}
	}
	return nil
}
