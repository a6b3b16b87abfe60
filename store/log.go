package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slowQuery is the duration above which a query is logged at warn level.
const slowQuery = 500 * time.Millisecond

// gormLogger sends GORM's logs to slog: SQL at debug level, slow queries at
// warn, errors other than "record not found" at error.
type gormLogger struct {
	log *slog.Logger
}

func newLogger(log *slog.Logger) logger.Interface {
	if log == nil {
		return logger.Discard
	}
	return gormLogger{log: log}
}

func (l gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.InfoContext(ctx, msg, "args", args)
}

func (l gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, msg, "args", args)
}

func (l gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, msg, "args", args)
}

func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && ctx.Err() == nil:
		sql, rows := fc()
		l.log.ErrorContext(ctx, "query failed", "err", err, "sql", sql, "rows", rows, "duration", elapsed)
	case elapsed > slowQuery:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow query", "sql", sql, "rows", rows, "duration", elapsed)
	case l.log.Enabled(ctx, slog.LevelDebug-4):
		sql, rows := fc()
		l.log.Log(ctx, slog.LevelDebug-4, "query", "sql", sql, "rows", rows, "duration", elapsed)
	}
}

// ParamsFilter keeps bound values out of logged SQL: they include signing
// secrets and tokens.
func (l gormLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	return sql, nil
}
