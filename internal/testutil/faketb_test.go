package testutil

import "testing"

func TestFakeTB(t *testing.T) {
	var f FakeTB
	f.Helper()
	f.Log("a")
	f.Logf("%s", "b")
	if f.Failed() || f.Skipped() || f.Failures() != "" || f.Skips() != "" {
		t.Fatal("fresh FakeTB has failed or skipped")
	}
	f.Skipf("skip %d", 1)
	f.Skip("skip 2")
	if !f.Skipped() || f.Failed() || f.Skips() != "skip 1\nskip 2" {
		t.Fatalf("after Skipf and Skip: skipped=%v failed=%v skips=%q", f.Skipped(), f.Failed(), f.Skips())
	}
	f.Errorf("e%d", 1)
	f.Error("e2")
	f.Fatalf("f%d", 1)
	f.Fatal("f2")
	if !f.Failed() || f.Failures() != "e1\ne2\nf1\nf2" {
		t.Fatalf("after the failures: failed=%v failures=%q", f.Failed(), f.Failures())
	}

	var g FakeTB
	g.FailNow()
	g.SkipNow()
	if !g.Failed() || !g.Skipped() || g.Failures() != "" {
		t.Fatalf("FailNow, SkipNow: failed=%v skipped=%v failures=%q", g.Failed(), g.Skipped(), g.Failures())
	}
	var h FakeTB
	h.Fail()
	if !h.Failed() {
		t.Fatal("Fail did not mark failed")
	}
}
