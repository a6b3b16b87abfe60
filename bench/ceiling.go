package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// ceilingConcurrency matches Hookline's default HOOKLINE_WORKERS.
const ceilingConcurrency = 32

// runCeiling measures what this machine does without Hookline: a plain
// net/http client POSTing ~1 KiB bodies shaped like Hookline's to the same
// kind of receiver, from as many goroutines as Hookline has workers.
// Throughput figures are reported as a ratio to it.
func runCeiling(ctx context.Context, b *bench) ([]row, error) {
	rc, err := startReceiver()
	if err != nil {
		return nil, err
	}
	defer rc.close()
	client := newHTTPClient(ceilingConcurrency)
	url := rc.url("/ceiling")
	res := closedLoop(ctx, ceilingConcurrency, 0, b.dur(10*time.Second), func(ctx context.Context, seq int64) error {
		return postEnvelope(ctx, client, url, seq)
	})
	if err := res.err(); err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.ceiling = float64(res.done) / res.elapsed.Seconds()
	r := row{Scenario: "ceiling", Figure: fmt.Sprintf("plain net/http POSTs of 1 KiB, %d concurrent", ceilingConcurrency),
		Value: b.ceiling, Unit: "req/s", Note: res.note()}
	return []row{r}, nil
}

// postEnvelope POSTs a body like a Hookline delivery's:
// {"id","type","timestamp","data":<payload>}.
func postEnvelope(ctx context.Context, client *http.Client, url string, seq int64) error {
	body := make([]byte, 0, 1200)
	body = append(body, `{"id":"evt_ceiling`...)
	body = strconv.AppendInt(body, seq, 10)
	body = append(body, `","type":"bench.ceiling","timestamp":"`...)
	body = time.Now().UTC().AppendFormat(body, time.RFC3339)
	body = append(body, `","data":`...)
	body = appendPayload(body, seq)
	body = append(body, '}')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}
