package delivery

import (
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/backoff"
	"github.com/hookline/hookline/delivery/outbound"
	"github.com/hookline/hookline/model"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		in   string
		want []time.Duration
	}{
		{"5s", []time.Duration{5 * time.Second}},
		{"5s,5m,30m", []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute}},
		{" 1m30s , 2h ,\t500ms ", []time.Duration{90 * time.Second, 2 * time.Hour, 500 * time.Millisecond}},
		{"5s, 5m, 30m, 2h, 5h, 10h, 10h", DefaultSchedule},
	}
	for _, tt := range tests {
		got, err := ParseSchedule(tt.in)
		if err != nil {
			t.Errorf("ParseSchedule(%q) error: %v", tt.in, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseSchedule(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseSchedule_Errors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // a part of the message
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"5s,", "item 2 is empty"},
		{",5s", "item 1 is empty"},
		{"5s,,5m", "item 2 is empty"},
		{"5s,soon", `item 2 "soon"`},
		{"5", `item 1 "5"`},
		{"5s,0s", `item 2 "0s": must be positive`},
		{"5s,5m,-1m", `item 3 "-1m": must be positive`},
	}
	for _, tt := range tests {
		got, err := ParseSchedule(tt.in)
		if err == nil {
			t.Errorf("ParseSchedule(%q) = %v, nil; want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseSchedule(%q) error = %q; want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header string
		limit  time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"Empty", "", time.Hour, 0, false},
		{"Blank", "   ", time.Hour, 0, false},
		{"Seconds", "120", time.Hour, 2 * time.Minute, true},
		{"SecondsTrimmed", " 30 ", time.Hour, 30 * time.Second, true},
		{"Zero", "0", time.Hour, 0, true},
		{"Negative", "-5", time.Hour, 0, true},
		{"Capped", "7200", time.Hour, time.Hour, true},
		{"NoLimit", "7200", 0, 2 * time.Hour, true},
		{"HugeNumber", "99999999999999999999999", time.Hour, time.Hour, true},
		{"HugeNumberNoLimit", "9223372036854775807", 0, math.MaxInt64, true},
		{"HugeNegative", "-99999999999999999999999", time.Hour, 0, true},
		{"Date", date(90 * time.Second), time.Hour, 90 * time.Second, true},
		{"DateRFC850", now.Add(time.Minute).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Hour, time.Minute, true},
		{"DateANSIC", now.Add(time.Minute).Format(time.ANSIC), time.Hour, time.Minute, true},
		{"DatePast", date(-time.Hour), time.Hour, 0, true},
		{"DateCapped", date(48 * time.Hour), time.Hour, time.Hour, true},
		{"Fraction", "1.5", time.Hour, 0, false},
		{"Duration", "5s", time.Hour, 0, false},
		{"Garbage", "soon", time.Hour, 0, false},
		{"ISODate", "2024-05-06T07:09:09Z", time.Hour, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RetryAfter(tt.header, now, tt.limit)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter(%q, now, %v) = %v, %v; want %v, %v", tt.header, tt.limit, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	schedule := backoff.Schedule{Steps: []time.Duration{time.Second, time.Minute, time.Hour}}
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	status := func(code int, header ...string) outbound.Response {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return outbound.Response{StatusCode: code, Header: h}
	}
	tests := []struct {
		name     string
		res      outbound.Response
		attempt  int
		schedule backoff.Schedule
		want     decision
	}{
		{"OK", status(200), 1, schedule, decision{outcome: model.AttemptOutcomeSuccess, status: model.DeliveryStatusSucceeded}},
		{"NoContent", status(204), 3, schedule, decision{outcome: model.AttemptOutcomeSuccess, status: model.DeliveryStatusSucceeded}},
		{"SuccessAfterSchedule", status(299), 9, schedule, decision{outcome: model.AttemptOutcomeSuccess, status: model.DeliveryStatusSucceeded}},
		{"ServerError", status(500), 1, schedule, decision{outcome: model.AttemptOutcomeFailure, status: model.DeliveryStatusRetrying,
			next: at(time.Second), failure: "receiver answered 500 Internal Server Error"}},
		{"SecondStep", status(502), 2, schedule, decision{outcome: model.AttemptOutcomeFailure, status: model.DeliveryStatusRetrying,
			next: at(time.Minute), failure: "receiver answered 502 Bad Gateway"}},
		{"ScheduleExhausted", status(500), 4, schedule, decision{outcome: model.AttemptOutcomeFailure, status: model.DeliveryStatusDead,
			failure: "receiver answered 500 Internal Server Error"}},
		{"NoScheduleIsPing", status(500), 1, backoff.Schedule{}, decision{outcome: model.AttemptOutcomeFailure, status: model.DeliveryStatusDead,
			failure: "receiver answered 500 Internal Server Error"}},
		{"NetworkError", outbound.Response{Err: errors.New("send request: connection refused")}, 1, schedule, decision{outcome: model.AttemptOutcomeFailure,
			status: model.DeliveryStatusRetrying, next: at(time.Second), failure: "send request: connection refused"}},
		{"Redirect", status(302), 1, schedule, decision{outcome: model.AttemptOutcomeFailure, status: model.DeliveryStatusRetrying,
			next: at(time.Second), failure: "receiver answered 302 Found; redirects are not followed"}},
		{"Gone", status(410), 1, schedule, decision{outcome: model.AttemptOutcomeFailure, status: model.DeliveryStatusDead,
			failure: "receiver answered 410 Gone", disable: "disabled automatically: the receiver answered 410 Gone"}},
		{"TooManyRequestsRetryAfter", status(429, "Retry-After", "30"), 1, schedule, decision{outcome: model.AttemptOutcomeFailure,
			status: model.DeliveryStatusRetrying, next: at(30 * time.Second), failure: "receiver answered 429 Too Many Requests"}},
		{"UnavailableRetryAfterCapped", status(503, "Retry-After", "999999"), 1, schedule, decision{outcome: model.AttemptOutcomeFailure,
			status: model.DeliveryStatusRetrying, next: at(time.Hour), failure: "receiver answered 503 Service Unavailable"}},
		{"RetryAfterZero", status(503, "Retry-After", "0"), 1, schedule, decision{outcome: model.AttemptOutcomeFailure,
			status: model.DeliveryStatusRetrying, next: at(0), failure: "receiver answered 503 Service Unavailable"}},
		{"RetryAfterUnparseable", status(429, "Retry-After", "soon"), 2, schedule, decision{outcome: model.AttemptOutcomeFailure,
			status: model.DeliveryStatusRetrying, next: at(time.Minute), failure: "receiver answered 429 Too Many Requests"}},
		{"RetryAfterIgnoredOn500", status(500, "Retry-After", "30"), 1, schedule, decision{outcome: model.AttemptOutcomeFailure,
			status: model.DeliveryStatusRetrying, next: at(time.Second), failure: "receiver answered 500 Internal Server Error"}},
		{"RetryAfterAfterSchedule", status(429, "Retry-After", "30"), 4, schedule, decision{outcome: model.AttemptOutcomeFailure,
			status: model.DeliveryStatusDead, failure: "receiver answered 429 Too Many Requests"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.res, tt.attempt, tt.schedule, now)
			if got.outcome != tt.want.outcome || got.status != tt.want.status || got.failure != tt.want.failure ||
				got.disable != tt.want.disable || !sameTime(got.next, tt.want.next) {
				t.Errorf("decide(%d, attempt %d) = %+v (next %v); want %+v (next %v)", tt.res.StatusCode, tt.attempt, got, got.next, tt.want, tt.want.next)
			}
		})
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
