package remotetest

import (
	"context"
	"errors"
	"io"
	"testing"

	"xbr/shared/remote"
)

// escapingKeys try to name something outside the remote (or its prefix) or to hide a
// character that a file system or an S3 service reads differently.
var escapingKeys = []string{
	"..", ".", "../outside", "vm/../../outside", "vm/..", "vm/.", "./vm/a", "vm/./a",
	"/etc/passwd", "//host/share", "vm//a", "vm/a/", `..\outside`,
	"vm/a\x00.xva", "vm/\x1b[2Ja", "vm/a\x7f", "vm/a\u0085b", "vm/\u009b2Ja",
}

// testEscapingKeys: every operation refuses a key that would leave the remote, before it
// does anything, and nothing is written.
func testEscapingKeys(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	for _, key := range escapingKeys {
		if u, err := r.Create(ctx, key, -1); !errors.Is(err, remote.ErrInvalidKey) {
			if u != nil {
				u.Abort(ctx)
			}
			t.Errorf("Create(%q) = %v, want ErrInvalidKey", key, err)
		}
		if rc, err := r.Open(ctx, key); !errors.Is(err, remote.ErrInvalidKey) {
			closeIf(rc)
			t.Errorf("Open(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := r.Stat(ctx, key); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := r.Delete(ctx, key); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := r.List(ctx, key+"/"); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("List(%q) = %v, want ErrInvalidKey", key+"/", err)
		}
	}
	testEscapingTemps(t, r)
	AssertKeys(t, r, "")
}

// testEscapingTemps: a sweeper refuses to list or remove a leftover outside the remote.
func testEscapingTemps(t *testing.T, r remote.Remote) {
	s, ok := r.(remote.Sweeper)
	if !ok {
		return
	}
	ctx := context.Background()
	for _, key := range escapingKeys {
		if _, err := s.ListTemp(ctx, key+"/"); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("ListTemp(%q) = %v, want ErrInvalidKey", key+"/", err)
		}
		tmp := remote.Temp{Key: key, ID: key + "/" + remote.TempName("a.xva", "0123456789abcdef")}
		if err := s.RemoveTemp(ctx, tmp); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("RemoveTemp(%+v) = %v, want ErrInvalidKey", tmp, err)
		}
	}
}

func closeIf(rc io.ReadCloser) {
	if rc != nil {
		rc.Close()
	}
}
