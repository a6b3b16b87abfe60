package model

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Filter is a compiled set of webhook filters: every rule must accept the
// payload for the webhook to receive the event.
type Filter struct {
	rules []filterRule
}

type filterRule struct {
	path     []string
	accepted map[string]struct{}
}

// CompileFilters validates filters JSON (null, or an object mapping dotted
// payload paths to non-empty arrays of scalars) and compiles it for Match.
func CompileFilters(j JSON) (Filter, error) {
	if j.IsNull() {
		return Filter{}, nil
	}
	return j.compile()
}

func (j JSON) compile() (Filter, error) {
	if len(j) > MaxFiltersBytes {
		return Filter{}, InvalidField("filters", "must be at most %d KiB of JSON", MaxFiltersBytes>>10)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(j, &raw); err != nil || raw == nil {
		return Filter{}, InvalidField("filters", "must be an object mapping a dotted payload path to a list of accepted values")
	}
	if len(raw) > MaxFilterKeys {
		return Filter{}, InvalidField("filters", "must have at most %d keys", MaxFilterKeys)
	}
	f := Filter{rules: make([]filterRule, 0, len(raw))}
	for key, list := range raw {
		if len(key) > MaxFilterKeyBytes {
			return Filter{}, InvalidField("filters", "key %s is longer than %d bytes", Quote(key), MaxFilterKeyBytes)
		}
		path := strings.Split(key, ".")
		for _, seg := range path {
			if seg == "" {
				return Filter{}, InvalidField("filters", "key %s is not a dotted path", Quote(key))
			}
		}
		var values []any
		if err := decodeJSON(list, &values); err != nil || len(values) == 0 {
			return Filter{}, InvalidField("filters", "value of %s must be a non-empty array of scalars", Quote(key))
		}
		if len(values) > MaxFilterValues {
			return Filter{}, InvalidField("filters", "%s accepts at most %d values", Quote(key), MaxFilterValues)
		}
		rule := filterRule{path: path, accepted: make(map[string]struct{}, len(values))}
		for _, v := range values {
			text, ok := scalarText(v)
			if !ok || v == nil {
				return Filter{}, InvalidField("filters", "value of %s must be a non-empty array of scalars", Quote(key))
			}
			if len(text) > MaxFilterValueBytes {
				return Filter{}, InvalidField("filters", "a value of %s is longer than %d bytes", Quote(key), MaxFilterValueBytes)
			}
			rule.accepted[text] = struct{}{}
		}
		f.rules = append(f.rules, rule)
	}
	return f, nil
}

// Match reports whether payload, decoded with json.Decoder.UseNumber, passes
// every rule: the value at each path, as its JSON scalar text, is one of the
// accepted values. A missing path or a non-scalar value does not match.
func (f Filter) Match(payload any) bool {
	for _, r := range f.rules {
		v, ok := lookup(payload, r.path)
		if !ok {
			return false
		}
		text, ok := scalarText(v)
		if !ok {
			return false
		}
		if _, ok := r.accepted[text]; !ok {
			return false
		}
	}
	return true
}

// Empty reports whether f accepts every payload.
func (f Filter) Empty() bool { return len(f.rules) == 0 }

// DecodePayload decodes a JSON payload for Filter.Match.
func DecodePayload(j JSON) (any, error) {
	var v any
	err := decodeJSON(j, &v)
	return v, err
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// lookup follows a dotted path through objects and, by index, arrays.
func lookup(v any, path []string) (any, bool) {
	for _, seg := range path {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[seg]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// scalarText renders a decoded JSON scalar as text: strings as themselves,
// numbers as written, booleans and null as their literals.
func scalarText(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case json.Number:
		return s.String(), true
	case bool:
		return strconv.FormatBool(s), true
	case nil:
		return "null", true
	}
	return "", false
}
