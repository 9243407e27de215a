package roster_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jinglegate/jinglegate/internal/roster"
)

func TestSQLiteStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub dir?x", "jg.db")
	if _, err := roster.OpenSQLite(ctx, path); err == nil {
		t.Fatal("opened a database in a missing directory")
	}
	path = filepath.Join(t.TempDir(), "jg #1.db")
	s, err := roster.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 1 {
		t.Errorf("schema version %d, %v", v, err)
	}
	if _, err := s.Get(ctx, "alice", "bob@example.org"); !errors.Is(err, roster.ErrNotFound) {
		t.Errorf("Get of a missing item: %v", err)
	}
	want := roster.Item{JID: "bob@example.org", Name: "Bob", Groups: []string{"Friends", "Work"}, Subscription: roster.To, PendingIn: true, InRoster: true}
	if _, err := s.Update(ctx, "alice", "bob@example.org", func(roster.Item) (roster.Item, error) { return want, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "alice", "carol@example.org", func(it roster.Item) (roster.Item, error) {
		it.InRoster = true
		it.Subscription = roster.Both
		return it, nil
	}); err != nil {
		t.Fatal(err)
	}
	// A failing update changes nothing.
	boom := errors.New("boom")
	if _, err := s.Update(ctx, "alice", "bob@example.org", func(it roster.Item) (roster.Item, error) {
		it.Name = "changed"
		return it, boom
	}); !errors.Is(err, boom) {
		t.Errorf("update error: %v", err)
	}
	s.Close()

	// Kept across a reopen (a gateway restart), and migrations do not run
	// twice.
	s, err = roster.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(ctx, "alice", "bob@example.org")
	if err != nil || !got.Equal(want) {
		t.Errorf("after reopen: %+v, %v; want %+v", got, err, want)
	}
	list, err := s.List(ctx, "alice")
	if err != nil || len(list) != 2 || list[0].JID != "bob@example.org" || list[1].Subscription != roster.Both {
		t.Errorf("List = %+v, %v", list, err)
	}
	if users, err := s.Users(ctx, "carol@example.org"); err != nil || len(users) != 1 || users[0] != "alice" {
		t.Errorf("Users = %v, %v", users, err)
	}
	// An item that becomes empty is deleted.
	if _, err := s.Update(ctx, "alice", "carol@example.org", func(it roster.Item) (roster.Item, error) {
		return roster.Item{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "alice", "carol@example.org"); !errors.Is(err, roster.ErrNotFound) {
		t.Errorf("empty item kept: %v", err)
	}
	if err := s.Delete(ctx, "alice", "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(ctx, "alice"); len(list) != 0 {
		t.Errorf("after delete: %+v", list)
	}
}

func TestSQLiteConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	s, err := roster.OpenSQLite(ctx, filepath.Join(t.TempDir(), "jg.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := s.Update(ctx, "alice", "bob@example.org", func(it roster.Item) (roster.Item, error) {
				it.InRoster = true
				it.Groups = append(it.Groups, "g")
				return it, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	it, err := s.Get(ctx, "alice", "bob@example.org")
	if err != nil || len(it.Groups) != 20 {
		t.Errorf("lost updates: %d groups, %v", len(it.Groups), err)
	}
}
