package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/retention"
	"github.com/hookline/hookline/store"
)

// Config is everything Hookline reads from its environment and flags.
type Config struct {
	Addr        string
	DatabaseURL string
	AdminKey    string
	LogLevel    slog.Level
	LogFormat   string
	// RedisURL, when set, carries subscription messages between processes.
	RedisURL string
	// MetricsAddr, when set, is where /metrics is served, and the API's
	// listener does not serve it.
	MetricsAddr string
	// HTTP limits what clients may ask of the API.
	HTTP httpapi.Config
	// DBMaxConns caps the database connection pool.
	DBMaxConns int
	// SecretKey, when set, encrypts webhook secrets, tokens and secret header values at rest.
	SecretKey []byte
	Delivery  delivery.Config
	// Retention says how long finished deliveries and events are kept, and
	// how often they are swept.
	Retention retention.Config
}

// DefaultConfig returns the configuration of `go run .` with no settings.
func DefaultConfig() Config {
	return Config{
		Addr:        ":8080",
		DatabaseURL: "sqlite://hookline.db",
		LogLevel:    slog.LevelInfo,
		LogFormat:   "text",
		Delivery:    delivery.DefaultConfig(),
		HTTP:        httpapi.DefaultConfig(),
		DBMaxConns:  32,
		Retention:   retention.DefaultConfig(),
	}
}

// LoadConfig reads HOOKLINE_* variables through getenv, then command-line
// flags from args, which win over the environment.
func LoadConfig(getenv func(string) string, args []string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("HOOKLINE_ADDR", &c.Addr)
	str("HOOKLINE_DATABASE_URL", &c.DatabaseURL)
	str("HOOKLINE_ADMIN_KEY", &c.AdminKey)
	str("HOOKLINE_LOG_FORMAT", &c.LogFormat)
	str("HOOKLINE_REDIS_URL", &c.RedisURL)
	str("HOOKLINE_METRICS_ADDR", &c.MetricsAddr)
	c.HTTP.ServeMetrics = c.MetricsAddr == ""
	if v := getenv("HOOKLINE_ALLOWED_ORIGINS"); v != "" && v != "*" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.HTTP.AllowedOrigins = append(c.HTTP.AllowedOrigins, o)
			}
		}
	}
	d := &c.Delivery
	parse := func(name string, fn func(string) error) {
		if v := getenv(name); v != "" {
			if err := fn(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	}
	parse("HOOKLINE_MAX_BODY_BYTES", func(v string) (err error) {
		c.HTTP.MaxBodyBytes, err = strconv.ParseInt(v, 10, 64)
		return err
	})
	parse("HOOKLINE_REQUEST_TIMEOUT", durationVar(&c.HTTP.RequestTimeout))
	parse("HOOKLINE_INTROSPECTION", func(v string) (err error) {
		c.HTTP.Introspection, err = strconv.ParseBool(v)
		return err
	})
	parse("HOOKLINE_RATE_LIMIT", func(v string) (err error) {
		c.HTTP.RatePerSecond, c.HTTP.RateBurst, err = httpapi.ParseRate(v)
		return err
	})
	parse("HOOKLINE_MAX_WEBSOCKETS_PER_KEY", intVar(&c.HTTP.MaxWebsocketsPerKey))
	parse("HOOKLINE_DB_MAX_CONNS", intVar(&c.DBMaxConns))
	parse("HOOKLINE_DELIVERY_TIMEOUT", durationVar(&d.Timeout))
	parse("HOOKLINE_DISABLE_AFTER", durationVar(&d.DisableAfter))
	parse("HOOKLINE_POLL_INTERVAL", durationVar(&d.PollInterval))
	parse("HOOKLINE_DELIVERY_LEASE", durationVar(&d.Lease))
	parse("HOOKLINE_WORKERS", intVar(&d.Workers))
	parse("HOOKLINE_MAX_INFLIGHT_PER_WEBHOOK", intVar(&d.MaxInflightPerWebhook))
	parse("HOOKLINE_ALLOW_PRIVATE_TARGETS", func(v string) (err error) {
		d.AllowPrivateTargets, err = strconv.ParseBool(v)
		return err
	})
	parse("HOOKLINE_RETENTION", durationVar(&c.Retention.Period))
	parse("HOOKLINE_RETENTION_INTERVAL", durationVar(&c.Retention.Interval))
	parse("HOOKLINE_RETRY_SCHEDULE", func(v string) (err error) {
		d.Schedule, err = delivery.ParseSchedule(v)
		return err
	})
	if v := getenv("HOOKLINE_SECRET_KEY"); v != "" {
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) != 32 {
			// The value itself stays out of the message.
			errs = append(errs, errors.New("HOOKLINE_SECRET_KEY: want 32 random bytes in base64, e.g. from: openssl rand -base64 32"))
		}
		c.SecretKey = key
	}
	if v := getenv("HOOKLINE_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("HOOKLINE_LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
	}

	fs := flag.NewFlagSet("hookline", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (HOOKLINE_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "sqlite://path or mysql://dsn (HOOKLINE_DATABASE_URL)")
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (HOOKLINE_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (HOOKLINE_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		errs = append(errs, fmt.Errorf("flags: %w", err))
	}
	if err := oneLine(errs); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// oneLine joins errs into one error with a one-line message: bad
// configuration is reported on a single line.
func oneLine(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	args := make([]any, len(errs))
	for i, err := range errs {
		args[i] = err
	}
	return fmt.Errorf(strings.TrimSuffix(strings.Repeat("%w; ", len(errs)), "; "), args...)
}

// Validate checks the values that can be checked without I/O.
func (c Config) Validate() error {
	if c.Addr == "" {
		return errors.New("HOOKLINE_ADDR is empty")
	}
	scheme, rest, ok := strings.Cut(c.DatabaseURL, "://")
	if !ok || rest == "" || (scheme != "sqlite" && scheme != "mysql") {
		return fmt.Errorf("HOOKLINE_DATABASE_URL=%q: want sqlite://path/to/file.db, sqlite://:memory: or mysql://user:pass@tcp(host:3306)/db", store.RedactURL(c.DatabaseURL))
	}
	if c.AdminKey != "" && len(c.AdminKey) < 16 {
		return errors.New("HOOKLINE_ADMIN_KEY must be at least 16 characters")
	}
	if d := c.Delivery; d.Timeout <= 0 || d.DisableAfter <= 0 || d.PollInterval <= 0 {
		return errors.New("HOOKLINE_DELIVERY_TIMEOUT, HOOKLINE_DISABLE_AFTER and HOOKLINE_POLL_INTERVAL must be positive durations")
	}
	if d := c.Delivery; d.Workers < 1 || d.Workers > 4096 || d.MaxInflightPerWebhook < 1 {
		return errors.New("HOOKLINE_WORKERS must be 1 to 4096 and HOOKLINE_MAX_INFLIGHT_PER_WEBHOOK at least 1")
	}
	if c.Retention.Period < 0 || c.Retention.Interval <= 0 {
		return errors.New("HOOKLINE_RETENTION must be 0 (keep everything) or a positive duration, and HOOKLINE_RETENTION_INTERVAL a positive duration")
	}
	if c.DBMaxConns < 2 {
		return errors.New("HOOKLINE_DB_MAX_CONNS must be at least 2")
	}
	if c.HTTP.MaxBodyBytes < 1024 || c.HTTP.RequestTimeout <= 0 || c.HTTP.MaxWebsocketsPerKey < 1 {
		return errors.New("HOOKLINE_MAX_BODY_BYTES must be at least 1024, HOOKLINE_REQUEST_TIMEOUT positive and HOOKLINE_MAX_WEBSOCKETS_PER_KEY at least 1")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("HOOKLINE_LOG_FORMAT=%q: want text or json", c.LogFormat)
	}
	return nil
}

func durationVar(dst *time.Duration) func(string) error {
	return func(v string) (err error) {
		*dst, err = time.ParseDuration(v)
		return err
	}
}

func intVar(dst *int) func(string) error {
	return func(v string) (err error) {
		*dst, err = strconv.Atoi(v)
		return err
	}
}
