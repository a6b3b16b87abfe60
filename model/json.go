package model

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
)

// JSON is a raw JSON value. It is the GraphQL JSON scalar and is stored as text.
type JSON json.RawMessage

// UnmarshalGQL implements graphql.Unmarshaler.
// HTML characters stay as they are: json.Marshal would write each <, > and &
// as six bytes, so a payload could grow sixfold past the request body limit.
func (j *JSON) UnmarshalGQL(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return Errorf(CodeBadUserInput, "not a JSON value: %v", err)
	}
	*j = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return nil
}

// MarshalGQL implements graphql.Marshaler.
func (j JSON) MarshalGQL(w io.Writer) {
	if len(j) == 0 {
		io.WriteString(w, "null")
		return
	}
	w.Write(j)
}

// MarshalJSON implements json.Marshaler.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (j *JSON) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

// IsNull reports whether j is absent or the JSON null.
func (j JSON) IsNull() bool {
	return len(j) == 0 || bytes.Equal(bytes.TrimSpace(j), []byte("null"))
}

// Value implements driver.Valuer.
func (j JSON) Value() (driver.Value, error) {
	if j.IsNull() {
		return nil, nil
	}
	return string(j), nil
}

// Scan implements sql.Scanner.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case string:
		*j = JSON(v)
	case []byte:
		*j = append(JSON(nil), v...)
	default:
		return fmt.Errorf("scan JSON from %T", src)
	}
	return nil
}
