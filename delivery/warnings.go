package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline/delivery/outbound"
	"github.com/hookline/hookline/model"
)

// warningLookupTimeout bounds the DNS lookup behind a webhook's warnings,
// which a client waits for.
const warningLookupTimeout = 2 * time.Second

// Warnings says, in plain words, what will go wrong with deliveries to w
// as configured: today, that they will be refused because its URL is a
// non-public address, or a name that resolves only to such addresses, while
// private targets are not allowed. It looks the name up within a short
// timeout; a name that does not resolve now gets no warning. Empty when
// nothing is wrong.
func (e *Engine) Warnings(ctx context.Context, w *model.Webhook) []string {
	warnings := []string{}
	if e.cfg.AllowPrivateTargets {
		return warnings
	}
	ctx, cancel := context.WithTimeout(ctx, warningLookupTimeout)
	defer cancel()
	if refused, ok := errors.AsType[*outbound.RefusedError](outbound.CheckDestination(ctx, nil, w.URL)); ok {
		warnings = append(warnings, "deliveries to "+refused.Host+" will be refused: "+refused.Reason()+
			"; set HOOKLINE_ALLOW_PRIVATE_TARGETS=true to allow private targets")
	}
	return warnings
}
