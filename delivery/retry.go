package delivery

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/backoff"
	"github.com/hookline/hookline/delivery/outbound"
	"github.com/hookline/hookline/model"
)

// DefaultSchedule is the delay before each retry: the first retry comes 5
// seconds after the first failed attempt, the last one about 28 hours after
// it. A delivery that fails 8 times is dead.
var DefaultSchedule = []time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// ParseSchedule parses a comma-separated list of Go durations, such as
// "5s, 5m, 30m", into a retry schedule. Spaces around items are ignored.
// Every item must be positive and there must be at least one; the error names
// the first bad item.
func ParseSchedule(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("parse schedule: empty")
	}
	items := strings.Split(s, ",")
	schedule := make([]time.Duration, 0, len(items))
	for i, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("parse schedule: item %d is empty", i+1)
		}
		d, err := time.ParseDuration(item)
		if err != nil {
			return nil, fmt.Errorf("parse schedule: item %d %q: %w", i+1, item, err)
		}
		if d <= 0 {
			return nil, fmt.Errorf("parse schedule: item %d %q: must be positive", i+1, item)
		}
		schedule = append(schedule, d)
	}
	return schedule, nil
}

// RetryAfter parses the value of a Retry-After response header, either
// delta-seconds or an HTTP date, into a delay from now. A date in the past or
// a negative number gives 0; when limit > 0 the delay is capped at limit. It
// returns false when the header is empty or unparseable.
func RetryAfter(header string, now time.Time, limit time.Duration) (time.Duration, bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(header, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case secs <= 0:
			d = 0
		case secs > int64(math.MaxInt64/time.Second):
			d = math.MaxInt64
		default:
			d = time.Duration(secs) * time.Second
		}
	} else if t, err := http.ParseTime(header); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	if limit > 0 && d > limit {
		d = limit
	}
	return d, true
}

// decision is what one attempt's answer means for its delivery.
type decision struct {
	outcome model.AttemptOutcome
	status  model.DeliveryStatus
	// next is when to try again, for RETRYING.
	next *time.Time
	// failure says why the attempt failed; "" when it succeeded.
	failure string
	// disable, when set, disables the webhook at once.
	disable string
}

// decide applies the retry rules to the answer to attempt attemptNumber
// of a delivery, at now:
//   - any 2xx succeeds;
//   - 410 Gone kills the delivery and disables its webhook;
//   - anything else (an error, a redirect, any other status) retries after
//     the schedule's next step, or after a 429's or 503's Retry-After
//     (capped at the schedule's longest step); once the schedule is
//     exhausted the delivery is DEAD.
func decide(res outbound.Response, attemptNumber int, schedule backoff.Schedule, now time.Time) decision {
	switch {
	case res.Err == nil && res.StatusCode >= 200 && res.StatusCode < 300:
		return decision{outcome: model.AttemptOutcomeSuccess, status: model.DeliveryStatusSucceeded}
	case res.Err != nil:
		return retry(res.Err.Error(), attemptNumber, schedule, now, nil)
	case res.StatusCode == http.StatusGone:
		return decision{outcome: model.AttemptOutcomeFailure, status: model.DeliveryStatusDead, failure: answered(res.StatusCode, ""),
			disable: "disabled automatically: the receiver answered 410 Gone"}
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return retry(answered(res.StatusCode, "; redirects are not followed"), attemptNumber, schedule, now, nil)
	}
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
		if wait, ok := RetryAfter(res.Header.Get("Retry-After"), now, schedule.Max()); ok {
			return retry(answered(res.StatusCode, ""), attemptNumber, schedule, now, &wait)
		}
	}
	return retry(answered(res.StatusCode, ""), attemptNumber, schedule, now, nil)
}

// retry is the decision after a failed attempt: the next step of the
// schedule, or the wait the receiver asked for instead, or DEAD after the
// last step.
func retry(failure string, attemptNumber int, schedule backoff.Schedule, now time.Time, asked *time.Duration) decision {
	d := decision{outcome: model.AttemptOutcomeFailure, status: model.DeliveryStatusDead, failure: failure}
	wait, ok := schedule.Next(attemptNumber)
	if !ok {
		return d
	}
	if asked != nil {
		wait = *asked
	}
	next := now.Add(wait).UTC()
	d.status, d.next = model.DeliveryStatusRetrying, &next
	return d
}

func answered(code int, more string) string {
	return fmt.Sprintf("receiver answered %d %s%s", code, http.StatusText(code), more)
}
