package winobj_test

import (
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

func TestMessageQueueOrderAndPeek(t *testing.T) {
	q := winobj.NewMessageQueue()
	if _, ok := q.Peek(false); ok {
		t.Fatal("Peek on an empty queue found a message")
	}
	for i := range 3 {
		if err := q.Post(winobj.Msg{HWnd: 7, Message: 0x401, WParam: uintptr(i), LParam: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		remove bool
		want   uintptr
		left   int
	}{
		{false, 0, 3}, {false, 0, 3}, {true, 0, 2}, {false, 1, 2}, {true, 1, 1},
	} {
		m, ok := q.Peek(tc.remove)
		if !ok || m.WParam != tc.want || m.HWnd != 7 || m.Message != 0x401 || q.Len() != tc.left {
			t.Fatalf("Peek(%v) = %+v, %v with %d left; want wParam %d with %d left", tc.remove, m, ok, q.Len(), tc.want, tc.left)
		}
	}
	if m, err := q.Get(0, nil); err != nil || m.WParam != 2 {
		t.Fatalf("Get = %+v, %v", m, err)
	}
	if _, err := q.Get(0, nil); err != wsa.WAIT_TIMEOUT {
		t.Fatalf("Get on an empty queue = %v, want WAIT_TIMEOUT", err)
	}
}

func TestMessageQueueBlockingGet(t *testing.T) {
	q := winobj.NewMessageQueue()
	type res struct {
		m   winobj.Msg
		err error
	}
	get := func(timeout time.Duration, cancel <-chan struct{}) <-chan res {
		ch := make(chan res, 1)
		go func() {
			m, err := q.Get(timeout, cancel)
			ch <- res{m, err}
		}()
		return ch
	}
	ch := get(winobj.Infinite, nil)
	stays(t, ch, 20*time.Millisecond, "Get")
	q.Post(winobj.Msg{Message: 5})
	if r := recv(t, ch, "Get"); r.err != nil || r.m.Message != 5 {
		t.Fatalf("Get = %+v, %v", r.m, r.err)
	}

	start := time.Now()
	if r := recv(t, get(30*time.Millisecond, nil), "Get"); r.err != wsa.WAIT_TIMEOUT || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("Get = %v after %v; want WAIT_TIMEOUT after 30ms", r.err, time.Since(start))
	}

	cancel := make(chan struct{})
	ch = get(winobj.Infinite, cancel)
	stays(t, ch, 10*time.Millisecond, "Get")
	close(cancel)
	if r := recv(t, ch, "Get"); r.err != wsa.WSAEINTR {
		t.Fatalf("cancelled Get = %v, want WSAEINTR", r.err)
	}

	ch, ch2 := get(winobj.Infinite, nil), get(time.Hour, nil)
	stays(t, ch, 10*time.Millisecond, "Get")
	q.Close()
	for _, c := range []<-chan res{ch, ch2} {
		if r := recv(t, c, "Get"); r.err != wsa.ERROR_ABANDONED_WAIT_0 {
			t.Fatalf("Get across Close = %v, want ERROR_ABANDONED_WAIT_0", r.err)
		}
	}
}

func TestMessageQueueClosedAndFull(t *testing.T) {
	q := winobj.NewMessageQueue()
	for i := range winobj.MaxPostedMessages {
		if err := q.Post(winobj.Msg{WParam: uintptr(i)}); err != nil {
			t.Fatalf("Post %d: %v", i, err)
		}
	}
	if err := q.Post(winobj.Msg{}); err != winobj.ErrNotEnoughQuota {
		t.Fatalf("Post to a full queue = %v, want ErrNotEnoughQuota", err)
	}
	q.Peek(true)
	if err := q.Post(winobj.Msg{}); err != nil {
		t.Fatalf("Post after making room = %v", err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Post(winobj.Msg{}); err != wsa.WSA_INVALID_HANDLE {
		t.Errorf("Post after Close = %v, want WSA_INVALID_HANDLE", err)
	}
	if _, ok := q.Peek(true); ok || q.Len() != 0 {
		t.Error("messages survived Close")
	}
	if _, err := q.Get(winobj.Infinite, nil); err != wsa.ERROR_ABANDONED_WAIT_0 {
		t.Errorf("Get after Close = %v", err)
	}
	if err := q.Close(); err != wsa.WSA_INVALID_HANDLE {
		t.Errorf("second Close = %v, want WSA_INVALID_HANDLE", err)
	}
}
