package model

import "testing"

// TestJSONKeepsHTMLCharacters: a payload is stored as compact as it came,
// not with <, > and & escaped to six bytes each.
func TestJSONKeepsHTMLCharacters(t *testing.T) {
	var j JSON
	if err := j.UnmarshalGQL(map[string]any{"html": "<a href='x'>&</a>"}); err != nil {
		t.Fatal(err)
	}
	if want := `{"html":"<a href='x'>&</a>"}`; string(j) != want {
		t.Errorf("UnmarshalGQL = %s; want %s", j, want)
	}
}
