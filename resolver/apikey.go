package resolver

import (
	"time"

	"github.com/hookline/hookline/model"
)

// newAPIKey builds an API key and returns it with its secret, which is
// stored only as a hash.
func newAPIKey(owner string, name *string, role *model.ApiKeyRole, expiresAt *time.Time) (*model.APIKey, string, error) {
	if err := model.ValidateOwner(owner); err != nil {
		return nil, "", err
	}
	if name != nil && len(*name) > 256 {
		return nil, "", model.InvalidField("name", "must be at most 256 bytes")
	}
	if expiresAt != nil {
		if !expiresAt.After(time.Now()) {
			return nil, "", model.InvalidField("expiresAt", "is in the past; a key must expire later than now")
		}
		// As stored (to the microsecond), so the answer matches later reads.
		t := expiresAt.UTC().Truncate(time.Microsecond)
		expiresAt = &t
	}
	k := &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: owner, Name: name, Role: model.ApiKeyRoleMember, ExpiresAt: expiresAt}
	setIf(&k.Role, role)
	secret := model.NewAPIKeySecret()
	k.Hash = model.HashAPIKey(secret)
	return k, secret, nil
}

// nullIfNotFound turns NOT_FOUND into a null result, for queries that return
// null for what does not exist or belongs to another owner.
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if model.ErrorCode(err) == model.CodeNotFound {
		return nil, nil
	}
	return v, err
}

// deletableOwner refuses an owner name that is not valid, and the caller's
// own owner: an admin cannot delete the owner of its own key.
func deletableOwner(c model.Caller, owner string) error {
	if err := model.ValidateOwner(owner); err != nil {
		return err
	}
	if owner == c.Key.Owner {
		return model.InvalidField("owner", "is the owner of the calling key; an admin key of another owner can delete it")
	}
	return nil
}
