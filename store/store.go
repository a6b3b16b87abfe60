// Package store persists Hookline's data through GORM on SQLite or MySQL. It
// is the only package that knows about GORM and the database drivers.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	sqlitedriver "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/hookline/hookline/backoff"
	"github.com/hookline/hookline/model"
)

// Store is Hookline's database. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect string
	sealer  *sealer

	writer chan struct{} // SQLite: held by the transaction that writes

	keyMu sync.Mutex
	keys  map[string]cachedKey // API keys by hash, briefly
	// touched is when this process last wrote each key's last_used_at.
	touched map[string]time.Time

	changes Notifier
	log     *slog.Logger

	deleting ownerSet // owners being deleted, briefly
}

// Notifier is told of every change to a delivery or a webhook once it is
// committed; *feed.Local and *feed.Redis implement it.
type Notifier interface {
	Notify(ctx context.Context, c model.Change) error
}

// Options configure a Store.
type Options struct {
	// Logger receives GORM's errors and slow queries; nil discards them.
	Logger *slog.Logger
	// SecretKey, 32 bytes, encrypts webhook secrets, tokens and secret header
	// values at rest.
	SecretKey []byte
	// MaxOpenConns caps the connection pool (default 32), so that load
	// queues in the process instead of exhausting the server's connections.
	MaxOpenConns int
	// Changes, when set, is told of every change to a delivery or a
	// webhook the store commits: this is the one place subscribers' change
	// messages come from.
	Changes Notifier
}

// Dialects a Store can run on.
const (
	DialectSQLite = "sqlite"
	DialectMySQL  = "mysql"
)

// now is the clock for stored times: UTC, truncated to the microsecond that
// both databases keep, so a time read back equals the time written and
// SQLite's text timestamps sort in time order.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Open connects to the database named by rawURL (sqlite://path,
// sqlite://:memory:, mysql://<go-sql-driver DSN> or mysql://user:pass@host:port/db)
// and migrates its schema. A MySQL database that does not exist yet is created.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	seal, err := newSealer(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("database URL %q: want sqlite://path or mysql://dsn", RedactURL(rawURL))
	}
	cfg := &gorm.Config{
		NowFunc:                now,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		Logger:                 newLogger(opts.Logger),
	}
	var db *gorm.DB
	switch scheme {
	case DialectSQLite:
		db, err = openSQLite(ctx, rest, cfg)
	case DialectMySQL:
		db, err = openMySQL(ctx, rest, cfg)
	default:
		return nil, fmt.Errorf("database URL %q: unknown scheme %q, want sqlite or mysql", RedactURL(rawURL), scheme)
	}
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, dialect: scheme, sealer: seal, writer: make(chan struct{}, 1), keys: map[string]cachedKey{}, touched: map[string]time.Time{}, changes: opts.Changes, log: log}
	if sqlDB, err := db.DB(); err == nil {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 32
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	if err := s.ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string, cfg *gorm.Config) (*gorm.DB, error) {
	if path == "" {
		return nil, errors.New("database URL: sqlite:// needs a file path or :memory:")
	}
	// journal_mode is set once below, not per connection: see enableWAL.
	const pragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	dsn := "file:" + path + "?" + pragmas
	if path == ":memory:" {
		// Each connection to ":memory:" would be a separate, empty database;
		// a named in-memory database is shared by every connection of the pool.
		dsn = "file:/hookline-" + model.RandomHex(8) + "?vfs=memdb&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	}
	db, err := gorm.Open(sqlite.Open(dsn), cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if path != ":memory:" {
		if err := enableWAL(ctx, db); err != nil {
			(&Store{db: db}).Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	return db, nil
}

// enableWAL switches the file to write-ahead logging, which then persists in
// the file. SQLite answers SQLITE_BUSY at once, without waiting on the busy
// timeout, while another process starting on the same new file holds its
// lock, so the switch is retried for as long as the busy timeout would wait.
func enableWAL(ctx context.Context, db *gorm.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		err := db.WithContext(ctx).Exec("PRAGMA journal_mode=WAL").Error
		var se *sqlitedriver.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy {
			if err != nil {
				return fmt.Errorf("enable WAL: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("enable WAL: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a locked database.
const sqliteBusy = 5

func openMySQL(ctx context.Context, rest string, cfg *gorm.Config) (*gorm.DB, error) {
	mc, err := parseMySQLDSN(rest)
	if err != nil {
		return nil, err
	}
	precision := 6
	open := func() (*gorm.DB, error) {
		db, err := gorm.Open(gormmysql.New(gormmysql.Config{
			DSN:                      mc.FormatDSN(),
			DefaultDatetimePrecision: &precision,
		}), cfg)
		if err == nil {
			if err = pingDB(ctx, db); err != nil {
				(&Store{db: db}).Close()
			}
		}
		return db, err
	}
	db, err := open()
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1049 && mc.DBName != "" { // unknown database
		if err := createMySQLDatabase(ctx, *mc); err != nil {
			return nil, err
		}
		db, err = open()
	}
	if errors.As(err, &me) && me.Number == 1193 { // unknown system variable
		// MariaDB before 11.1 and MySQL before 5.7.20 name it tx_isolation.
		delete(mc.Params, "transaction_isolation")
		mc.Params["tx_isolation"] = readCommitted
		db, err = open()
	}
	if err != nil {
		return nil, fmt.Errorf("open mysql %s: %w", mc.Addr, err)
	}
	return db, nil
}

// parseMySQLDSN accepts a go-sql-driver DSN (user:pass@tcp(host:3306)/db?opts)
// or the URL form user:pass@host:3306/db?opts, and forces the options Hookline
// relies on.
func parseMySQLDSN(rest string) (*mysql.Config, error) {
	dsn := rest
	var userinfo *url.Userinfo
	if !strings.Contains(rest, "(") {
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			// url.Parse quotes the whole URL, password included.
			return nil, errors.New("database URL: not a valid mysql://user:pass@host:port/db URL (escape special characters in the password with %XX)")
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "3306")
		}
		dsn = fmt.Sprintf("tcp(%s)%s", host, u.EscapedPath())
		if u.RawQuery != "" {
			dsn += "?" + u.RawQuery
		}
		userinfo = u.User
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %w", RedactURL(dsn), err)
	}
	if userinfo != nil {
		// Set apart from the DSN: a URL's credentials are percent-encoded,
		// a DSN's are taken literally.
		mc.User = userinfo.Username()
		mc.Passwd, _ = userinfo.Password()
	}
	if mc.DBName == "" {
		return nil, errors.New("database URL: mysql:// needs a database name, e.g. mysql://root@tcp(127.0.0.1:3306)/hookline")
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	// One round trip per statement instead of three (prepare, execute,
	// close): the driver escapes the arguments itself.
	mc.InterpolateParams = true
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	// Every connection reads at READ COMMITTED, where the locks of a claim
	// or a publish do not block concurrent inserts (new deliveries, new
	// webhooks) through gap locks. Set once per connection rather than per
	// transaction, which would cost a round trip each.
	delete(mc.Params, "tx_isolation")
	mc.Params["transaction_isolation"] = readCommitted
	if _, ok := mc.Params["time_zone"]; !ok {
		mc.Params["time_zone"] = "'+00:00'"
	}
	if mc.Timeout == 0 {
		mc.Timeout = 5 * time.Second
	}
	return mc, nil
}

const readCommitted = "'READ-COMMITTED'"

func createMySQLDatabase(ctx context.Context, mc mysql.Config) error {
	name := mc.DBName
	mc.DBName = ""
	mc.Params = nil // the session settings need not hold for one CREATE DATABASE
	db, err := gorm.Open(gormmysql.Open(mc.FormatDSN()), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return fmt.Errorf("open mysql %s: %w", mc.Addr, err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	q := "CREATE DATABASE IF NOT EXISTS `" + strings.ReplaceAll(name, "`", "``") + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	if err := db.WithContext(ctx).Exec(q).Error; err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func pingDB(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return sqlDB.PingContext(ctx)
}

func (s *Store) ping(ctx context.Context) error {
	if err := pingDB(ctx, s.db); err != nil {
		return fmt.Errorf("connect to %s database: %w", s.dialect, err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.ping(ctx) }

// migrate creates and updates the tables. Processes starting together take
// turns: a MySQL advisory lock, or SQLite's write lock, serialises them.
func (s *Store) migrate(ctx context.Context) error {
	models := []any{&model.APIKey{}, &model.Webhook{}, &model.Event{}, &model.Delivery{}, &model.DeliveryAttempt{}, &ownerRow{}, &webhookEvent{}, &broadcast{}}
	if s.dialect == DialectSQLite {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := numberAttemptsUniquely(tx); err != nil {
				return err
			}
			if err := tx.AutoMigrate(models...); err != nil {
				return err
			}
			if err := fillOwners(tx); err != nil {
				return err
			}
			if err := fillSubscriptions(tx); err != nil {
				return err
			}
			return dropObsoleteIndexes(tx)
		})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	}
	unlock, err := s.mysqlLock(ctx, "hookline_migrate", time.Minute)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer unlock()
	// Owners, IDs and event types compare byte for byte, whatever the
	// database's default collation: "Acme" is not "acme". The session lets
	// each query below start afresh from these options: a *gorm.DB that Set
	// returns holds one statement, which every query on it would add to
	// (the table, limit and conditions of the one before).
	db := s.db.WithContext(ctx).Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin").
		Session(&gorm.Session{})
	if err := numberAttemptsUniquely(db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.AutoMigrate(models...); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := fillOwners(db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := fillSubscriptions(db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := dropObsoleteIndexes(db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// obsoleteIndexes are indexes earlier versions created that nothing uses
// now; each costs every insert and update of its table.
var obsoleteIndexes = []struct {
	model any
	name  string
}{
	// (status, next_attempt_at): claims do not filter on status, so MySQL
	// sorted the whole table for each claim.
	{&model.Delivery{}, "idx_deliveries_due"},
	// (delivery_id, attempt_number), not unique: idx_attempts_delivery_number
	// took its place.
	{&model.DeliveryAttempt{}, "idx_attempts_delivery"},
}

// attemptNumbersIndex is the unique index on (delivery_id, attempt_number).
const attemptNumbersIndex = "idx_attempts_delivery_number"

// numberAttemptsUniquely gives a database made by an earlier version the
// unique index on attempt numbers. Earlier versions could record two
// attempts of a delivery under one number (a redelivery while an attempt
// was in flight had it sent twice at once), so the repeated numbers are
// moved up first (see renumberRepeatedAttempts). On MySQL a process of an
// earlier version may record another repeat before the index exists; the
// renumbering is then tried again. A new database gets the index with the
// table.
func numberAttemptsUniquely(db *gorm.DB) error {
	db = db.Session(&gorm.Session{}) // each query below starts afresh
	m := db.Migrator()
	if !m.HasTable(&model.DeliveryAttempt{}) || m.HasIndex(&model.DeliveryAttempt{}, attemptNumbersIndex) {
		return nil
	}
	var err error
	for range 3 {
		if err = renumberRepeatedAttempts(db); err != nil {
			return err
		}
		if err = m.CreateIndex(&model.DeliveryAttempt{}, attemptNumbersIndex); !errors.Is(err, gorm.ErrDuplicatedKey) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("create index %s: %w", attemptNumbersIndex, err)
	}
	return nil
}

// renumberRepeatedAttempts numbers again the attempts of each delivery that
// has a number twice: in the order of their numbers and start times, each
// keeps its number unless an earlier one took it, and then takes the next
// free one (1, 2, 2, 3 become 1, 2, 3, 4). A delivery whose count of
// attempts falls below its highest number is raised to it, so that its next
// attempt gets a number of its own.
func renumberRepeatedAttempts(db *gorm.DB) error {
	var repeated []string
	err := db.Model(&model.DeliveryAttempt{}).Select("delivery_id").Group("delivery_id, attempt_number").
		Having("COUNT(*) > 1").Pluck("delivery_id", &repeated).Error
	if err != nil {
		return fmt.Errorf("find repeated attempt numbers: %w", err)
	}
	slices.Sort(repeated)
	repeated = slices.Compact(repeated)
	for chunk := range slices.Chunk(repeated, 500) {
		var atts []model.DeliveryAttempt
		err := db.Select("id", "delivery_id", "attempt_number").Where("delivery_id IN ?", chunk).
			Order("delivery_id, attempt_number, started_at, id").Find(&atts).Error
		if err != nil {
			return fmt.Errorf("renumber attempts: %w", err)
		}
		highest := map[string]int{}
		for _, a := range atts {
			n := max(a.AttemptNumber, highest[a.DeliveryID]+1)
			highest[a.DeliveryID] = n
			if n == a.AttemptNumber {
				continue
			}
			if err := db.Model(&model.DeliveryAttempt{}).Where("id = ?", a.ID).Update("attempt_number", n).Error; err != nil {
				return fmt.Errorf("renumber attempts: %w", err)
			}
		}
		for id, n := range highest {
			err := db.Model(&model.Delivery{}).Where("id = ? AND attempt_count < ?", id, n).Update("attempt_count", n).Error
			if err != nil {
				return fmt.Errorf("renumber attempts: %w", err)
			}
		}
	}
	return nil
}

func dropObsoleteIndexes(db *gorm.DB) error {
	m := db.Migrator()
	for _, ix := range obsoleteIndexes {
		if m.HasIndex(ix.model, ix.name) {
			if err := m.DropIndex(ix.model, ix.name); err != nil {
				return fmt.Errorf("drop index %s: %w", ix.name, err)
			}
		}
	}
	return nil
}

// mysqlLock takes a named MySQL advisory lock on a connection of its own and
// returns the function that releases it.
func (s *Store) mysqlLock(ctx context.Context, name string, wait time.Duration) (func(), error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, int(wait.Seconds())).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if got.Int64 != 1 {
		conn.Close()
		return nil, fmt.Errorf("lock %s: not granted within %s", name, wait)
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", name)
		conn.Close()
	}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// translate maps database errors onto application errors: a missing row is
// NOT_FOUND, a duplicate key CONFLICT; anything else is wrapped with op.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return model.Errorf(model.CodeNotFound, "not found")
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return model.Errorf(model.CodeConflict, "already exists")
	}
	var me *model.Error
	if errors.As(err, &me) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// IsUnavailable reports whether err means the database could not be reached
// or answered too late, as opposed to a bug or bad input.
func IsUnavailable(err error) bool {
	var netErr net.Error
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205 || me.Number == 1040) {
		return true // deadlock victim, lock wait timeout, too many connections: try again
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, sql.ErrConnDone) || errors.As(err, &netErr)
}

// getOwned returns the owner's row of type T with that ID, or NOT_FOUND
// (also for an ID that is not of T's kind, without asking the database).
func getOwned[T any](ctx context.Context, db *gorm.DB, owner, id, prefix, what string) (*T, error) {
	notFound := model.Errorf(model.CodeNotFound, "%s %s not found", what, id)
	if !model.ValidID(id, prefix) {
		return nil, notFound
	}
	var v T
	if err := db.WithContext(ctx).Where("owner = ? AND id = ?", owner, id).Take(&v).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, notFound
		}
		return nil, fmt.Errorf("get %s: %w", what, err)
	}
	return &v, nil
}

// retryDeadlocks runs fn again, up to three times, when MySQL chose it as a
// deadlock victim (1213) or it waited too long for a lock (1205): both mean
// "try again", and the work here is safe to repeat.
func retryDeadlocks(ctx context.Context, fn func() error) error {
	var err error
	for try := range 3 {
		if err = fn(); err == nil {
			return nil
		}
		var me *mysql.MySQLError
		if !errors.As(err, &me) || (me.Number != 1213 && me.Number != 1205) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff.Exponential(try+1, 5*time.Millisecond, 50*time.Millisecond)):
		}
	}
	return err
}
