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
			tc.want.MaxBodyBytes, tc.want.RequestTimeout, tc.want.Introspection, tc.want.MaxWebsocketsPerKey, tc.want.DBMaxConns =
				def.MaxBodyBytes, def.RequestTimeout, def.Introspection, def.MaxWebsocketsPerKey, def.DBMaxConns
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
