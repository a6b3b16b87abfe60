package model

import (
	"slices"
	"testing"
)

func TestMarkSecretHeaders(t *testing.T) {
	w := &Webhook{Headers: []Header{
		{Name: "Authorization", Value: "Basic dTpw"},
		{Name: "COOKIE", Value: "a=1"},
		{Name: "proxy-authorization", Value: "Basic dTpw"},
		{Name: "X-Webhook-Shared-Token", Value: "t"},
		{Name: "X-Api-Key", Value: "k", Secret: true},
		{Name: "X-Team", Value: "blue"},
		{Name: "X-Authorization-Hint", Value: "none"},
	}}
	w.MarkSecretHeaders()
	var got []bool
	for _, h := range w.Headers {
		got = append(got, h.Secret)
	}
	if want := []bool{true, true, true, true, true, false, false}; !slices.Equal(got, want) {
		t.Errorf("Secret after MarkSecretHeaders = %v; want %v", got, want)
	}
}
