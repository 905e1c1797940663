package tun

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"", true}, // the kernel picks
		{"ws2t0", true},
		{"a", true},
		{strings.Repeat("x", 15), true},
		{strings.Repeat("x", 16), false},
		{"tun%d", false},
		{"a/b", false},
		{"a:0", false},
		{"a b", false},
		{"a\tb", false},
		{"a\nb", false},
		{"a\x00b", false},
		{".", false},
		{"..", false},
		{"...", true},
		{"tün", true}, // the kernel takes any non-space, non-'/' bytes
	}
	for _, tt := range tests {
		err := validateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("validateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("validateName(%q) = %v, not ErrBadName", tt.name, err)
		}
	}
}

func TestConfigNormalize(t *testing.T) {
	tests := []struct {
		in      Config
		wantMTU int
		wantErr error // nil: success; errAny: some error
	}{
		{Config{}, DefaultMTU, nil},
		{Config{MTU: 9000}, 9000, nil},
		{Config{MTU: MinMTU}, MinMTU, nil},
		{Config{MTU: MaxMTU}, MaxMTU, nil},
		{Config{MTU: MinMTU - 1}, 0, errAny},
		{Config{MTU: MaxMTU + 1}, 0, errAny},
		{Config{MTU: -1}, 0, errAny},
		{Config{Name: "bad name"}, 0, ErrBadName},
	}
	for _, tt := range tests {
		got, err := tt.in.normalize()
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("%+v.normalize() = %v", tt.in, err)
		case tt.wantErr == nil && got.MTU != tt.wantMTU:
			t.Errorf("%+v.normalize().MTU = %d, want %d", tt.in, got.MTU, tt.wantMTU)
		case tt.wantErr != nil && err == nil:
			t.Errorf("%+v.normalize() succeeded, want error", tt.in)
		case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("%+v.normalize() = %v, want %v", tt.in, err, tt.wantErr)
		}
	}
}

var errAny = errors.New("any error")

func TestBadNameNeverReachesKernel(t *testing.T) {
	for _, name := range []string{"tun%d", strings.Repeat("n", 16), "a/b", " "} {
		d, err := Open(Config{Name: name})
		if err == nil {
			d.Close()
			t.Fatalf("Open(%q) succeeded", name)
		}
		if !errors.Is(err, ErrBadName) {
			t.Errorf("Open(%q) = %v, want ErrBadName", name, err)
		}
	}
}
