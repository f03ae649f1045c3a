package remote_test

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"xbr/shared/remote"
)

func TestValidateKey(t *testing.T) {
	long := strings.Repeat("a", remote.MaxSegmentLen)
	tests := []struct {
		key  string
		want string // "" = valid, else a fragment of the error
	}{
		{"a", ""},
		{"xo-vm-backups/6b2c7a3e-0000-4000-8000-000000000001/20231012T101112Z.xva", ""},
		{".hidden/file.json", ""},
		{".xbr-tmp/xo-vm-backups/a.xva", "reserved for temp files"},
		{"x/.xbr-tmp/a", ""},
		{"a..b/c...", ""},
		{"ünïcode/ключ", ""},
		{long, ""},
		{"", "empty"},
		{"/etc/passwd", "absolute path"},
		{"a/../b", `".."`},
		{"..", `".."`},
		{"../x", `".."`},
		{"a/./b", `"."`},
		{"a//b", "empty path segment"},
		{"a/", "empty path segment"},
		{`a\b`, "backslash"},
		{"a\x00b", "control byte 0x00 at offset 1"},
		{"a\nb", "control byte 0x0a"},
		{"a\x7fb", "control byte 0x7f"},
		{"vm/a\u0085b", "control character U+0085 at offset 4"},
		{"\u009b2J", "control character U+009B at offset 0"},
		{"\xff\xfe", "UTF-8"},
		{long + "a", "longer than 200"},
		{strings.Repeat("abcd/", 205) + "x", "longer than 1024"},
		{"dir/.x.0123456789abcdef.tmp", "reserved for temp files"},
	}
	for _, tt := range tests {
		err := remote.ValidateKey(tt.key)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidateKey(%q) = %v, want nil", tt.key, err)
			}
			continue
		}
		if !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", tt.key, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateKey(%q) = %q, want it to mention %q", tt.key, err, tt.want)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "xo-vm-backups/uuid/2023"} {
		if err := remote.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "../", "a//", "a/../", `a\`} {
		if err := remote.ValidatePrefix(p); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
}

func TestTempName(t *testing.T) {
	tests := []struct {
		seg  string
		base string
		ok   bool
	}{
		{remote.TempName("x.xva", "0123456789abcdef"), "x.xva", true},
		{".a.b.ffffffffffffffff.tmp", "a.b", true},
		{".a.0123456789ABCDEF.tmp", "", false},
		{".a.0123456789abcde.tmp", "", false},
		{"a.0123456789abcdef.tmp", "", false},
		{"..0123456789abcdef.tmp", "", false},
		{".a0123456789abcdef.tmp", "", false},
		{".a.0123456789abcdef.tm", "", false},
	}
	for _, tt := range tests {
		base, ok := remote.TempBase(tt.seg)
		if base != tt.base || ok != tt.ok {
			t.Errorf("TempBase(%q) = %q, %v; want %q, %v", tt.seg, base, ok, tt.base, tt.ok)
		}
	}
}

// FuzzValidateKey checks that every accepted key is a clean, local path that cannot leave the
// remote's root, and that a temp name built from an accepted segment maps back to it.
func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"a/b.xva", "../x", "/abs", "a//b", "a\\b", ".x.0123456789abcdef.tmp", "é/\x00", "a/\u0085b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if remote.ValidateKey(key) != nil {
			return
		}
		if path.Clean(key) != key || !filepath.IsLocal(key) || strings.Contains(key, "\\") {
			t.Fatalf("accepted key %q is not a clean local path", key)
		}
		if i := strings.IndexFunc(key, unicode.IsControl); i >= 0 {
			t.Fatalf("accepted key %q holds a control character at offset %d", key, i)
		}
		root := "/srv/remote"
		if j := filepath.Join(root, key); !strings.HasPrefix(j, root+"/") {
			t.Fatalf("accepted key %q escapes the root: %q", key, j)
		}
		base := path.Base(key)
		got, ok := remote.TempBase(remote.TempName(base, "0123456789abcdef"))
		if !ok || got != base {
			t.Fatalf("TempBase(TempName(%q)) = %q, %v", base, got, ok)
		}
		if remote.ValidatePrefix(key) != nil || remote.ValidatePrefix(key+"/") != nil {
			t.Fatalf("accepted key %q is not an accepted prefix", key)
		}
	})
}
