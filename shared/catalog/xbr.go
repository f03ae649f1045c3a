package catalog

import (
	"fmt"
	"unicode"
)

// Codecs of a stored XVA, as the xbr object records them.
const (
	CodecGzip = "gzip"
	CodecZstd = "zstd"
	CodecNone = "none"
)

func (x *Xbr) validate() error {
	if !isSHA256(x.SHA256) {
		return fmt.Errorf("xbr.sha256 %.80q: want 64 lowercase hex digits", x.SHA256)
	}
	switch x.Codec {
	case CodecGzip, CodecZstd, CodecNone:
	default:
		return fmt.Errorf("xbr.codec %.40q: want %s, %s or %s", x.Codec, CodecGzip, CodecZstd, CodecNone)
	}
	for _, f := range []struct{ name, v string }{
		{"xbr.version", x.Version}, {"xbr.run_id", x.RunID}, {"xbr.pool", x.Pool},
		{"xbr.job", x.Job}, {"xbr.schedule", x.Schedule},
	} {
		if err := printable(f.name, f.v); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"xbr.raw_size", x.RawSize}, {"xbr.duration_ms", x.DurationMS}, {"xbr.bytes_per_second", x.BytesPerSecond}} {
		if f.v < 0 {
			return fmt.Errorf("%s %d: must not be negative", f.name, f.v)
		}
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// printable accepts a single line of printable text of at most 256 bytes.
func printable(field, v string) error {
	if len(v) > 256 {
		return fmt.Errorf("%s %.40q…: longer than 256 bytes", field, v)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%s %q: contains a control character", field, v)
		}
	}
	return nil
}
