package model

import "testing"

func TestFingerprint(t *testing.T) {
	base := Fingerprint("order.paid", JSON(`{"id": 1, "lines": [{"sku": "a<b", "qty": 2}], "note": "é"}`))
	for _, tc := range []struct {
		name, typ, payload string
		same               bool
	}{
		{"OK/KeysReordered", "order.paid", `{"note": "é", "lines": [{"qty": 2, "sku": "a<b"}], "id": 1}`, true},
		{"OK/Whitespace", "order.paid", "{\n\t\"id\":1,\"lines\":[ {\"sku\":\"a<b\",\"qty\":2} ],\"note\":\"é\"}", true},
		{"OK/StringEscapes", "order.paid", `{"id": 1, "lines": [{"sku": "a\u003cb", "qty": 2}], "note": "\u00e9"}`, true},
		{"ErrType", "order.refunded", `{"id": 1, "lines": [{"sku": "a<b", "qty": 2}], "note": "é"}`, false},
		{"ErrValue", "order.paid", `{"id": 2, "lines": [{"sku": "a<b", "qty": 2}], "note": "é"}`, false},
		{"ErrNumberWritten", "order.paid", `{"id": 1.0, "lines": [{"sku": "a<b", "qty": 2}], "note": "é"}`, false},
		{"ErrArrayOrder", "order.paid", `{"id": 1, "lines": [{"qty": 2, "sku": "a<b"}, {}], "note": "é"}`, false},
		{"ErrExtraKey", "order.paid", `{"id": 1, "lines": [{"sku": "a<b", "qty": 2}], "note": "é", "x": null}`, false},
		{"ErrTypeAndPayloadBoundary", "order.paid{", `"id": 1}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Fingerprint(tc.typ, JSON(tc.payload)) == base; got != tc.same {
				t.Errorf("Fingerprint(%q, %s) == base is %v; want %v", tc.typ, tc.payload, got, tc.same)
			}
		})
	}
}

func TestCanonicalJSON(t *testing.T) {
	got := string(CanonicalJSON(JSON(`{ "b": [1, 2.50, "x<y"], "a": {"d": true, "c": null} }`)))
	if want := `{"a":{"c":null,"d":true},"b":[1,2.50,"x<y"]}`; got != want {
		t.Errorf("CanonicalJSON = %s; want %s", got, want)
	}
}
