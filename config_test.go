package main

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/delivery"
)

// fakeEnv returns a getenv that reads from m.
func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want Config
	}{
		{
			name: "Defaults",
			want: Config{Addr: ":8080", DatabaseURL: "sqlite://hookline.db", LogLevel: slog.LevelInfo, LogFormat: "text"},
		},
		{
			name: "Env",
			env: map[string]string{
				"HOOKLINE_ADDR":         "127.0.0.1:9000",
				"HOOKLINE_DATABASE_URL": "mysql://root@tcp(db:3306)/hookline",
				"HOOKLINE_ADMIN_KEY":    "0123456789abcdef",
				"HOOKLINE_LOG_LEVEL":    "debug",
				"HOOKLINE_LOG_FORMAT":   "json",
			},
			want: Config{Addr: "127.0.0.1:9000", DatabaseURL: "mysql://root@tcp(db:3306)/hookline", AdminKey: "0123456789abcdef", LogLevel: slog.LevelDebug, LogFormat: "json"},
		},
		{
			name: "EnvLogLevelWarn",
			env:  map[string]string{"HOOKLINE_LOG_LEVEL": "warn"},
			want: Config{Addr: ":8080", DatabaseURL: "sqlite://hookline.db", LogLevel: slog.LevelWarn, LogFormat: "text"},
		},
		{
			name: "FlagsWithoutEnv",
			args: []string{"-addr", ":9999", "-database-url=sqlite://:memory:", "-log-level", "error", "-log-format", "json"},
			want: Config{Addr: ":9999", DatabaseURL: "sqlite://:memory:", LogLevel: slog.LevelError, LogFormat: "json"},
		},
		{
			name: "FlagsOverrideEnv",
			env: map[string]string{
				"HOOKLINE_ADDR":         "127.0.0.1:9000",
				"HOOKLINE_DATABASE_URL": "mysql://root@tcp(db:3306)/hookline",
				"HOOKLINE_LOG_LEVEL":    "debug",
				"HOOKLINE_LOG_FORMAT":   "json",
			},
			args: []string{"-addr=:7000", "-database-url", "sqlite:///var/lib/hookline.db", "-log-level=warn", "-log-format=text"},
			want: Config{Addr: ":7000", DatabaseURL: "sqlite:///var/lib/hookline.db", LogLevel: slog.LevelWarn, LogFormat: "text"},
		},
		{
			name: "FlagOverridesOnlyItsOwnVariable",
			env:  map[string]string{"HOOKLINE_ADDR": "127.0.0.1:9000", "HOOKLINE_LOG_FORMAT": "json"},
			args: []string{"-log-format", "text"},
			want: Config{Addr: "127.0.0.1:9000", DatabaseURL: "sqlite://hookline.db", LogLevel: slog.LevelInfo, LogFormat: "text"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadConfig(fakeEnv(tc.env), tc.args)
			if err != nil {
				t.Fatalf("LoadConfig(%v, %q) error: %v", tc.env, tc.args, err)
			}
			def := DefaultConfig()
			tc.want.Delivery = def.Delivery
			tc.want.Retention = def.Retention
			tc.want.HTTP.MaxBodyBytes, tc.want.HTTP.RequestTimeout, tc.want.HTTP.Introspection, tc.want.HTTP.MaxWebsocketsPerKey, tc.want.DBMaxConns =
				def.HTTP.MaxBodyBytes, def.HTTP.RequestTimeout, def.HTTP.Introspection, def.HTTP.MaxWebsocketsPerKey, def.DBMaxConns
			tc.want.HTTP.ServeMetrics, tc.want.HTTP.PingInterval = def.HTTP.ServeMetrics, def.HTTP.PingInterval
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadConfig(%v, %q) = %+v; want %+v", tc.env, tc.args, got, tc.want)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		mention string // the error must contain this
	}{
		{"ErrLogLevel", map[string]string{"HOOKLINE_LOG_LEVEL": "verbose"}, nil, "HOOKLINE_LOG_LEVEL"},
		{"ErrLogLevelFlag", nil, []string{"-log-level", "verbose"}, "log-level"},
		{"ErrLogFormat", map[string]string{"HOOKLINE_LOG_FORMAT": "xml"}, nil, "HOOKLINE_LOG_FORMAT"},
		{"ErrDatabaseURLScheme", map[string]string{"HOOKLINE_DATABASE_URL": "postgres://x"}, nil, "HOOKLINE_DATABASE_URL"},
		{"ErrDatabaseURLSchemeFlag", nil, []string{"-database-url", "postgres://x"}, "HOOKLINE_DATABASE_URL"},
		{"ErrDatabaseURLNoScheme", map[string]string{"HOOKLINE_DATABASE_URL": "hookline.db"}, nil, "HOOKLINE_DATABASE_URL"},
		{"ErrDatabaseURLEmptyPath", map[string]string{"HOOKLINE_DATABASE_URL": "sqlite://"}, nil, "HOOKLINE_DATABASE_URL"},
		{"ErrAdminKeyTooShort", map[string]string{"HOOKLINE_ADMIN_KEY": "short"}, nil, "HOOKLINE_ADMIN_KEY"},
		{"ErrUnknownFlag", nil, []string{"-port", "80"}, "port"},
		{"ErrEmptyAddrFlag", nil, []string{"-addr", ""}, "HOOKLINE_ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(fakeEnv(tc.env), tc.args)
			if err == nil {
				t.Fatalf("LoadConfig(%v, %q) = nil error; want one mentioning %s", tc.env, tc.args, tc.mention)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("LoadConfig(%v, %q) error = %q; want it to mention %s", tc.env, tc.args, err, tc.mention)
			}
		})
	}
}

// TestLoadConfigErrorsHidePassword checks that no error shows the password of
// a database URL, whatever is wrong with it.
func TestLoadConfigErrorsHidePassword(t *testing.T) {
	const password = "secretpw"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"ValidMySQLURLWithBadLogLevel", map[string]string{"HOOKLINE_DATABASE_URL": "mysql://user:secretpw@host/db", "HOOKLINE_LOG_LEVEL": "loud"}, nil},
		{"ValidMySQLURLWithBadLogFormat", map[string]string{"HOOKLINE_DATABASE_URL": "mysql://user:secretpw@host/db", "HOOKLINE_LOG_FORMAT": "xml"}, nil},
		{"UnknownScheme", map[string]string{"HOOKLINE_DATABASE_URL": "postgres://user:secretpw@host/db"}, nil},
		{"UnknownSchemeFlag", nil, []string{"-database-url", "postgres://user:secretpw@host/db"}},
		{"MisspelledScheme", map[string]string{"HOOKLINE_DATABASE_URL": "mysq://user:secretpw@host/db"}, nil},
		{"DriverDSNUnknownScheme", map[string]string{"HOOKLINE_DATABASE_URL": "maria://user:secretpw@tcp(host:3306)/db"}, nil},
		{"PasswordWithAt", map[string]string{"HOOKLINE_DATABASE_URL": "maria://user:p@secretpw@tcp(host:3306)/db"}, nil},
		{"UpperCaseScheme", map[string]string{"HOOKLINE_DATABASE_URL": "MYSQL://user:secretpw@host/db"}, nil},
		{"SingleSlash", map[string]string{"HOOKLINE_DATABASE_URL": "mysql:/user:secretpw@host/db"}, nil},
		{"NoSchemeSeparator", map[string]string{"HOOKLINE_DATABASE_URL": "user:secretpw@tcp(host:3306)/db"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(fakeEnv(tc.env), tc.args)
			if err == nil {
				t.Fatalf("LoadConfig(%v, %q) = nil error; want an error", tc.env, tc.args)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("LoadConfig(%v, %q) error = %q; want the password hidden", tc.env, tc.args, err)
			}
		})
	}
}

func TestLoadConfigDelivery(t *testing.T) {
	got, err := LoadConfig(fakeEnv(map[string]string{
		"HOOKLINE_DELIVERY_TIMEOUT":         "3s",
		"HOOKLINE_RETRY_SCHEDULE":           "10ms, 1s,2m",
		"HOOKLINE_DISABLE_AFTER":            "48h",
		"HOOKLINE_WORKERS":                  "7",
		"HOOKLINE_MAX_INFLIGHT_PER_WEBHOOK": "3",
		"HOOKLINE_ALLOW_PRIVATE_TARGETS":    "true",
		"HOOKLINE_DELIVERY_LEASE":           "90s",
		"HOOKLINE_POLL_INTERVAL":            "250ms",
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := delivery.DefaultConfig()
	want.Timeout, want.DisableAfter, want.Workers, want.MaxInflightPerWebhook = 3*time.Second, 48*time.Hour, 7, 3
	want.AllowPrivateTargets, want.Lease, want.PollInterval = true, 90*time.Second, 250*time.Millisecond
	want.Schedule = []time.Duration{10 * time.Millisecond, time.Second, 2 * time.Minute}
	if !reflect.DeepEqual(got.Delivery, want) {
		t.Errorf("Delivery = %+v; want %+v", got.Delivery, want)
	}
	for name, bad := range map[string]string{
		"HOOKLINE_DELIVERY_TIMEOUT":      "soon",
		"HOOKLINE_RETRY_SCHEDULE":        "5s,,1m",
		"HOOKLINE_WORKERS":               "0",
		"HOOKLINE_ALLOW_PRIVATE_TARGETS": "maybe",
		"HOOKLINE_DISABLE_AFTER":         "-1h",
	} {
		_, err := LoadConfig(fakeEnv(map[string]string{name: bad}), nil)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error = %v; want one naming %s", name, bad, err, name)
		}
	}
}

// TestLoadConfigDefaultValues pins the documented defaults (README's
// configuration table) as literals, so that a changed default fails here
// rather than moving silently with DefaultConfig.
func TestLoadConfigDefaultValues(t *testing.T) {
	c, err := LoadConfig(fakeEnv(nil), nil)
	if err != nil {
		t.Fatalf("LoadConfig(no settings) error: %v", err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"Addr", c.Addr, ":8080"},
		{"DatabaseURL", c.DatabaseURL, "sqlite://hookline.db"},
		{"RedisURL", c.RedisURL, ""},
		{"MetricsAddr", c.MetricsAddr, ""},
		{"ServeMetrics", c.HTTP.ServeMetrics, true},
		{"len(AllowedOrigins)", len(c.HTTP.AllowedOrigins), 0},
		{"MaxBodyBytes", c.HTTP.MaxBodyBytes, int64(1048576)},
		{"RequestTimeout", c.HTTP.RequestTimeout, 30 * time.Second},
		{"Introspection", c.HTTP.Introspection, true},
		{"RatePerSecond", c.HTTP.RatePerSecond, 0.0},
		{"MaxWebsocketsPerKey", c.HTTP.MaxWebsocketsPerKey, 100},
		{"DBMaxConns", c.DBMaxConns, 32},
		{"len(SecretKey)", len(c.SecretKey), 0},
		{"Delivery.Timeout", c.Delivery.Timeout, 15 * time.Second},
		{"Delivery.DisableAfter", c.Delivery.DisableAfter, 120 * time.Hour},
		{"Delivery.MaxInflightPerWebhook", c.Delivery.MaxInflightPerWebhook, 10},
		{"Delivery.Workers", c.Delivery.Workers, 32},
		{"Delivery.PollInterval", c.Delivery.PollInterval, time.Second},
		{"Delivery.AllowPrivateTargets", c.Delivery.AllowPrivateTargets, false},
		{"Retention.Period", c.Retention.Period, 720 * time.Hour},
		{"Retention.Interval", c.Retention.Interval, time.Minute},
		{"Delivery.Schedule", c.Delivery.Schedule, []time.Duration{
			5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
		}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("LoadConfig(no settings).%s = %v; want %v", tc.name, tc.got, tc.want)
		}
	}
}

// TestLoadConfigMetricsAddr: with HOOKLINE_METRICS_ADDR the metrics move
// to their own listener, off the API's.
func TestLoadConfigMetricsAddr(t *testing.T) {
	c, err := LoadConfig(fakeEnv(map[string]string{"HOOKLINE_METRICS_ADDR": "127.0.0.1:9090"}), nil)
	if err != nil {
		t.Fatalf("LoadConfig error: %v", err)
	}
	if c.MetricsAddr != "127.0.0.1:9090" || c.HTTP.ServeMetrics {
		t.Errorf("MetricsAddr = %q, HTTP.ServeMetrics = %t; want 127.0.0.1:9090 and false", c.MetricsAddr, c.HTTP.ServeMetrics)
	}
}

// perSlash keeps a rate's slash from nesting subtest names.
var perSlash = strings.NewReplacer("/", "_per_")

func TestLoadConfigRateLimit(t *testing.T) {
	for _, tc := range []struct {
		value     string
		perSecond float64
		burst     int
	}{
		{"100/s", 100, 100},
		{"6000/m", 100, 100},
		{"100/s,200", 100, 200},
		{"7200/h", 2, 2},
		{"30/m", 0.5, 1}, // the burst is one second's worth, at least 1
		{" 100/s , 5 ", 100, 5},
	} {
		t.Run("OK/"+perSlash.Replace(tc.value), func(t *testing.T) {
			got, err := LoadConfig(fakeEnv(map[string]string{"HOOKLINE_RATE_LIMIT": tc.value}), nil)
			if err != nil {
				t.Fatalf("HOOKLINE_RATE_LIMIT=%q: error %v", tc.value, err)
			}
			if got.HTTP.RatePerSecond != tc.perSecond || got.HTTP.RateBurst != tc.burst {
				t.Errorf("HOOKLINE_RATE_LIMIT=%q: rate %v/s burst %d; want %v/s burst %d",
					tc.value, got.HTTP.RatePerSecond, got.HTTP.RateBurst, tc.perSecond, tc.burst)
			}
		})
	}
	for _, bad := range []string{
		"100/x", "0/s", "-5/s", "100", "/s", "abc/s", "100/", "100/s,0", "100/s,-1", "100/s,many",
		"NaN/s", "Inf/s", "+Inf/m",
	} {
		t.Run("Err/"+perSlash.Replace(bad), func(t *testing.T) {
			got, err := LoadConfig(fakeEnv(map[string]string{"HOOKLINE_RATE_LIMIT": bad}), nil)
			if err == nil {
				t.Fatalf("HOOKLINE_RATE_LIMIT=%q: no error (rate %v/s burst %d); want one naming HOOKLINE_RATE_LIMIT",
					bad, got.HTTP.RatePerSecond, got.HTTP.RateBurst)
			}
			if !strings.Contains(err.Error(), "HOOKLINE_RATE_LIMIT") {
				t.Errorf("HOOKLINE_RATE_LIMIT=%q: error = %q; want it to name HOOKLINE_RATE_LIMIT", bad, err)
			}
		})
	}
}

// TestLoadConfigLimits checks that each limit and transport setting reaches
// its own field and nothing else.
func TestLoadConfigLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		set  func(*Config) // applied to DefaultConfig() to get the want
	}{
		{"IntrospectionFalse", map[string]string{"HOOKLINE_INTROSPECTION": "false"}, func(c *Config) { c.HTTP.Introspection = false }},
		{"IntrospectionZero", map[string]string{"HOOKLINE_INTROSPECTION": "0"}, func(c *Config) { c.HTTP.Introspection = false }},
		{"IntrospectionTrue", map[string]string{"HOOKLINE_INTROSPECTION": "true"}, func(c *Config) { c.HTTP.Introspection = true }},
		{"MaxBodyBytes", map[string]string{"HOOKLINE_MAX_BODY_BYTES": "2048"}, func(c *Config) { c.HTTP.MaxBodyBytes = 2048 }},
		{"MaxBodyBytesLarge", map[string]string{"HOOKLINE_MAX_BODY_BYTES": "10485760"}, func(c *Config) { c.HTTP.MaxBodyBytes = 10 << 20 }},
		{"AllowedOriginsOne", map[string]string{"HOOKLINE_ALLOWED_ORIGINS": "app.example.com"},
			func(c *Config) { c.HTTP.AllowedOrigins = []string{"app.example.com"} }},
		{"AllowedOriginsListTrimmed", map[string]string{"HOOKLINE_ALLOWED_ORIGINS": " app.example.com, *.example.org ,"},
			func(c *Config) { c.HTTP.AllowedOrigins = []string{"app.example.com", "*.example.org"} }},
		{"AllowedOriginsAny", map[string]string{"HOOKLINE_ALLOWED_ORIGINS": "*"}, func(c *Config) { c.HTTP.AllowedOrigins = nil }},
		{"RedisURL", map[string]string{"HOOKLINE_REDIS_URL": "redis://127.0.0.1:6379/0"},
			func(c *Config) { c.RedisURL = "redis://127.0.0.1:6379/0" }},
		{"MaxWebsocketsPerKey", map[string]string{"HOOKLINE_MAX_WEBSOCKETS_PER_KEY": "5"}, func(c *Config) { c.HTTP.MaxWebsocketsPerKey = 5 }},
		{"RateLimit", map[string]string{"HOOKLINE_RATE_LIMIT": "10/s,20"}, func(c *Config) { c.HTTP.RatePerSecond, c.HTTP.RateBurst = 10, 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadConfig(fakeEnv(tc.env), nil)
			if err != nil {
				t.Fatalf("LoadConfig(%v) error: %v", tc.env, err)
			}
			want := DefaultConfig()
			tc.set(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("LoadConfig(%v) = %+v; want %+v", tc.env, got, want)
			}
		})
	}
}

func TestLoadConfigLimitsErrors(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"HOOKLINE_INTROSPECTION", "nope"},
		{"HOOKLINE_INTROSPECTION", "off"},
		{"HOOKLINE_MAX_BODY_BYTES", "1mb"},
		{"HOOKLINE_MAX_BODY_BYTES", "-1"},
		{"HOOKLINE_MAX_BODY_BYTES", "512"},
		{"HOOKLINE_MAX_BODY_BYTES", "0"},
		{"HOOKLINE_MAX_WEBSOCKETS_PER_KEY", "many"},
		{"HOOKLINE_MAX_WEBSOCKETS_PER_KEY", "0"},
		{"HOOKLINE_MAX_WEBSOCKETS_PER_KEY", "-3"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := LoadConfig(fakeEnv(map[string]string{tc.name: tc.value}), nil)
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("%s=%q: error = %v; want one naming %s", tc.name, tc.value, err, tc.name)
			}
		})
	}
}

// TestLoadConfigRetention: HOOKLINE_RETENTION takes 0 (keep everything) or
// any positive duration, down to seconds; HOOKLINE_RETENTION_INTERVAL any
// positive duration.
func TestLoadConfigRetention(t *testing.T) {
	for _, tc := range []struct {
		retention, interval string
		period, every       time.Duration
	}{
		{"720h", "", 720 * time.Hour, time.Minute},
		{"0", "", 0, time.Minute},
		{"1s", "1s", time.Second, time.Second},
		{"2160h", "10m", 2160 * time.Hour, 10 * time.Minute},
		{"", "250ms", 720 * time.Hour, 250 * time.Millisecond},
	} {
		t.Run("OK/"+tc.retention+"/"+tc.interval, func(t *testing.T) {
			c, err := LoadConfig(fakeEnv(map[string]string{"HOOKLINE_RETENTION": tc.retention, "HOOKLINE_RETENTION_INTERVAL": tc.interval}), nil)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if c.Retention.Period != tc.period || c.Retention.Interval != tc.every {
				t.Errorf("retention %v every %v; want %v every %v", c.Retention.Period, c.Retention.Interval, tc.period, tc.every)
			}
		})
	}
	for _, tc := range []struct{ name, value string }{
		{"HOOKLINE_RETENTION", "-1h"},
		{"HOOKLINE_RETENTION", "30d"},
		{"HOOKLINE_RETENTION", "forever"},
		{"HOOKLINE_RETENTION_INTERVAL", "0"},
		{"HOOKLINE_RETENTION_INTERVAL", "-1s"},
		{"HOOKLINE_RETENTION_INTERVAL", "often"},
	} {
		t.Run("Err/"+tc.name+"="+tc.value, func(t *testing.T) {
			_, err := LoadConfig(fakeEnv(map[string]string{tc.name: tc.value}), nil)
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("%s=%q: error = %v; want one naming %s", tc.name, tc.value, err, tc.name)
			}
		})
	}
}
