package config_test

import (
	"testing"

	"xbr/shared/config"
)

// TestByteSizeHuman: the one rendering of a size for people (String is the exact, parseable form), in binary
// units with one decimal.
func TestByteSizeHuman(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{50 << 20, "50.0 MiB"}, {3 << 29, "1.5 GiB"}, {1 << 40, "1.0 TiB"},
		{1<<63 - 1, "8.0 EiB"}, {-5, "-5 B"},
	} {
		if got := config.ByteSize(c.n).Human(); got != c.want {
			t.Errorf("ByteSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
