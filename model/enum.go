package model

import (
	"io"
	"strconv"
)

// PayloadFormat is how an event is rendered in the body of a delivery.
type PayloadFormat string

const (
	PayloadFormatJSON PayloadFormat = "JSON"
	PayloadFormatXML  PayloadFormat = "XML"
	PayloadFormatText PayloadFormat = "TEXT"
)

// IsValid reports whether f is one of the known formats.
func (f PayloadFormat) IsValid() bool {
	switch f {
	case PayloadFormatJSON, PayloadFormatXML, PayloadFormatText:
		return true
	}
	return false
}

func (f PayloadFormat) String() string { return string(f) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (f *PayloadFormat) UnmarshalGQL(v any) error { return unmarshalEnum(v, f, "PayloadFormat") }

// MarshalGQL implements graphql.Marshaler.
func (f PayloadFormat) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(f))) }

// HealthStatus summarises how a webhook's receiver has answered recently.
type HealthStatus string

const (
	HealthStatusUnknown   HealthStatus = "UNKNOWN"
	HealthStatusHealthy   HealthStatus = "HEALTHY"
	HealthStatusUnhealthy HealthStatus = "UNHEALTHY"
)

// IsValid reports whether h is one of the known statuses.
func (h HealthStatus) IsValid() bool {
	switch h {
	case HealthStatusUnknown, HealthStatusHealthy, HealthStatusUnhealthy:
		return true
	}
	return false
}

func (h HealthStatus) String() string { return string(h) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (h *HealthStatus) UnmarshalGQL(v any) error { return unmarshalEnum(v, h, "HealthStatus") }

// MarshalGQL implements graphql.Marshaler.
func (h HealthStatus) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(h))) }

// ApiKeyRole decides what an API key may do beyond its owner's data.
type ApiKeyRole string

const (
	// ApiKeyRoleAdmin may also create and revoke API keys for any owner.
	ApiKeyRoleAdmin  ApiKeyRole = "ADMIN"
	ApiKeyRoleMember ApiKeyRole = "MEMBER"
)

// IsValid reports whether r is one of the known roles.
func (r ApiKeyRole) IsValid() bool { return r == ApiKeyRoleAdmin || r == ApiKeyRoleMember }

func (r ApiKeyRole) String() string { return string(r) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (r *ApiKeyRole) UnmarshalGQL(v any) error { return unmarshalEnum(v, r, "ApiKeyRole") }

// MarshalGQL implements graphql.Marshaler.
func (r ApiKeyRole) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(r))) }

type enum interface {
	~string
	IsValid() bool
}

func unmarshalEnum[E enum](v any, dst *E, name string) error {
	s, ok := v.(string)
	if !ok {
		return Errorf(CodeBadUserInput, "%s must be a string", name)
	}
	e := E(s)
	if !e.IsValid() {
		return Errorf(CodeBadUserInput, "%s is not a valid %s", Quote(s), name)
	}
	*dst = e
	return nil
}
