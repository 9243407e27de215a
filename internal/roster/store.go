package roster

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// ErrNotFound is returned by Store.Get for a contact that is not stored.
var ErrNotFound = errors.New("roster: no such item")

// Store keeps rosters. Implementations are safe for concurrent use.
type Store interface {
	// Get returns user's item for contact (both bare JIDs or localparts
	// as the caller chooses), or ErrNotFound.
	Get(ctx context.Context, user, contact string) (Item, error)
	// Update reads the item (a zero Item with JID set when absent),
	// applies f and writes the result atomically; an Empty result is
	// deleted. It returns what f returned.
	Update(ctx context.Context, user, contact string, f func(Item) (Item, error)) (Item, error)
	// Delete removes the item; deleting a missing item is not an error.
	Delete(ctx context.Context, user, contact string) error
	// List returns user's items ordered by contact.
	List(ctx context.Context, user string) ([]Item, error)
	// Users returns every user who has an item for contact.
	Users(ctx context.Context, contact string) ([]string, error)
	Close() error
}

// migrations are applied in order; each runs once, in a transaction, and
// is recorded in schema_migrations. Never edit one that has shipped: add a
// new one.
var migrations = []string{
	1: `CREATE TABLE roster_items (
		user         TEXT NOT NULL,
		contact      TEXT NOT NULL,
		name         TEXT NOT NULL DEFAULT '',
		groups       TEXT NOT NULL DEFAULT '[]',
		subscription TEXT NOT NULL DEFAULT 'none' CHECK (subscription IN ('none','to','from','both')),
		pending_out  INTEGER NOT NULL DEFAULT 0,
		pending_in   INTEGER NOT NULL DEFAULT 0,
		approved     INTEGER NOT NULL DEFAULT 0,
		in_roster    INTEGER NOT NULL DEFAULT 1,
		updated_at   TEXT NOT NULL,
		PRIMARY KEY (user, contact)
	);
	CREATE INDEX roster_items_contact ON roster_items (contact);`,
}

// SQLite is a Store in an SQLite database file (modernc.org/sqlite, no cgo).
type SQLite struct {
	db *sql.DB
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database at path and brings
// its schema up to date. ":memory:" gives a private in-memory database.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	dsn := "file:" + path + "?" + q.Encode()
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("roster: open %s: %w", path, err)
	}
	// One writer at a time is what SQLite does anyway; one connection
	// also keeps an in-memory database whole.
	db.SetMaxOpenConns(1)
	s := &SQLite{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("roster: %s: %w", path, err)
	}
	return s, nil
}

// SchemaVersion returns the schema version of the database.
func (s *SQLite) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

func (s *SQLite) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	cur, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if cur > len(migrations)-1 {
		return fmt.Errorf("database schema version %d is newer than this jinglegate knows (%d)", cur, len(migrations)-1)
	}
	for v := cur + 1; v < len(migrations); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UTC().Format(time.RFC3339)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

const itemColumns = `contact, name, groups, subscription, pending_out, pending_in, approved, in_roster`

type scanner interface{ Scan(...any) error }

func scanItem(r scanner) (Item, error) {
	var it Item
	var groups, sub string
	if err := r.Scan(&it.JID, &it.Name, &groups, &sub, &it.PendingOut, &it.PendingIn, &it.Approved, &it.InRoster); err != nil {
		return it, err
	}
	if err := json.Unmarshal([]byte(groups), &it.Groups); err != nil {
		return it, fmt.Errorf("roster: item %s: bad groups %q: %w", it.JID, groups, err)
	}
	var err error
	it.Subscription, err = ParseSubscription(sub)
	return it, err
}

// Get implements Store.
func (s *SQLite) Get(ctx context.Context, user, contact string) (Item, error) {
	return get(ctx, s.db, user, contact)
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func get(ctx context.Context, q queryer, user, contact string) (Item, error) {
	it, err := scanItem(q.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM roster_items WHERE user = ? AND contact = ?`, user, contact))
	if errors.Is(err, sql.ErrNoRows) {
		return Item{JID: contact}, ErrNotFound
	}
	return it, err
}

// Update implements Store.
func (s *SQLite) Update(ctx context.Context, user, contact string, f func(Item) (Item, error)) (Item, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Item{}, err
	}
	defer tx.Rollback()
	it, err := get(ctx, tx, user, contact)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return it, err
	}
	it, err = f(it)
	if err != nil {
		return it, err
	}
	it.JID = contact
	if it.Empty() {
		if _, err := tx.ExecContext(ctx, `DELETE FROM roster_items WHERE user = ? AND contact = ?`, user, contact); err != nil {
			return it, err
		}
		return it, tx.Commit()
	}
	groups := it.Groups
	if groups == nil {
		groups = []string{}
	}
	gj, _ := json.Marshal(groups)
	_, err = tx.ExecContext(ctx, `INSERT INTO roster_items (user, `+itemColumns+`, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user, contact) DO UPDATE SET name = excluded.name, groups = excluded.groups, subscription = excluded.subscription,
		pending_out = excluded.pending_out, pending_in = excluded.pending_in, approved = excluded.approved, in_roster = excluded.in_roster, updated_at = excluded.updated_at`,
		user, contact, it.Name, string(gj), it.Subscription.String(), it.PendingOut, it.PendingIn, it.Approved, it.InRoster, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return it, err
	}
	return it, tx.Commit()
}

// Delete implements Store.
func (s *SQLite) Delete(ctx context.Context, user, contact string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM roster_items WHERE user = ? AND contact = ?`, user, contact)
	return err
}

// List implements Store.
func (s *SQLite) List(ctx context.Context, user string) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+itemColumns+` FROM roster_items WHERE user = ? ORDER BY contact`, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Users implements Store.
func (s *SQLite) Users(ctx context.Context, contact string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user FROM roster_items WHERE contact = ? ORDER BY user`, contact)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Close implements Store.
func (s *SQLite) Close() error { return s.db.Close() }
