package testutil

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// FakeTB is a testing.TB that records failures and skips instead of acting
// on them, for testing test helpers. Unlike the real ones, its Fatal,
// FailNow, Skip and SkipNow methods do not stop the goroutine: the helper
// under test goes on (well-behaved helpers return after them). The methods
// it does not define (Cleanup, Name, TempDir, …) panic. Safe for
// concurrent use; the zero value is ready to use.
type FakeTB struct {
	testing.TB // nil: what FakeTB does not define panics

	mu sync.Mutex
	st fakeState
}

// fakeState is what a FakeTB recorded. Its slices are only appended to.
type fakeState struct {
	failed, skipped bool
	fails, skips    []string
}

var _ testing.TB = (*FakeTB)(nil)

// update changes the state under the lock.
func (f *FakeTB) update(change func(*fakeState)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.st)
}

// state returns a copy of the state.
func (f *FakeTB) state() fakeState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *FakeTB) fail(msg string) {
	f.update(func(s *fakeState) { s.failed, s.fails = true, append(s.fails, msg) })
}

func (f *FakeTB) skip(msg string) {
	f.update(func(s *fakeState) { s.skipped, s.skips = true, append(s.skips, msg) })
}

// Helper does nothing.
func (f *FakeTB) Helper() {}

// Log discards its arguments.
func (f *FakeTB) Log(args ...any) {}

// Logf discards its arguments.
func (f *FakeTB) Logf(format string, args ...any) {}

// Error records a failure.
func (f *FakeTB) Error(args ...any) { f.fail(fmt.Sprint(args...)) }

// Errorf records a failure.
func (f *FakeTB) Errorf(format string, args ...any) { f.fail(fmt.Sprintf(format, args...)) }

// Fatal records a failure; it returns.
func (f *FakeTB) Fatal(args ...any) { f.fail(fmt.Sprint(args...)) }

// Fatalf records a failure; it returns.
func (f *FakeTB) Fatalf(format string, args ...any) { f.fail(fmt.Sprintf(format, args...)) }

// Fail marks the fake failed.
func (f *FakeTB) Fail() { f.update(func(s *fakeState) { s.failed = true }) }

// FailNow marks the fake failed; it returns.
func (f *FakeTB) FailNow() { f.Fail() }

// Skip records a skip; it returns.
func (f *FakeTB) Skip(args ...any) { f.skip(fmt.Sprint(args...)) }

// Skipf records a skip; it returns.
func (f *FakeTB) Skipf(format string, args ...any) { f.skip(fmt.Sprintf(format, args...)) }

// SkipNow marks the fake skipped; it returns.
func (f *FakeTB) SkipNow() { f.update(func(s *fakeState) { s.skipped = true }) }

// Failed reports whether a failure was recorded.
func (f *FakeTB) Failed() bool { return f.state().failed }

// Skipped reports whether a skip was recorded.
func (f *FakeTB) Skipped() bool { return f.state().skipped }

// Failures returns the failure messages recorded, one a line.
func (f *FakeTB) Failures() string { return strings.Join(f.state().fails, "\n") }

// Skips returns the skip messages recorded, one a line.
func (f *FakeTB) Skips() string { return strings.Join(f.state().skips, "\n") }
