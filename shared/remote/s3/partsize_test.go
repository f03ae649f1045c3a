package s3_test

import (
	"testing"

	"xbr/shared/remote/s3"
)

func TestPartSize(t *testing.T) {
	const GiB, TiB = 1 << 30, 1 << 40
	tests := []struct {
		hint, floor, want int64
	}{
		{-1, 0, 105 * s3.MiB},
		{-1, 200 * s3.MiB, 200 * s3.MiB},
		{0, 0, s3.MinPartSize},
		{100, s3.DefaultPartFloor, s3.DefaultPartFloor},
		{16 * GiB, s3.DefaultPartFloor, s3.DefaultPartFloor},
		{64 * GiB, s3.MinPartSize, 9 * s3.MiB}, // 80 GiB / 10,000 = 8.2 MiB, rounded up
		{TiB, s3.DefaultPartFloor, 132 * s3.MiB},
		{100 * TiB, 0, s3.MaxPartSize},
		{8 * TiB, 10 * GiB, s3.MaxPartSize},
	}
	for _, tt := range tests {
		if got := s3.PartSize(tt.hint, tt.floor); got != tt.want {
			t.Errorf("PartSize(%d, %d) = %d, want %d", tt.hint, tt.floor, got, tt.want)
		}
	}
}

// TestPartSizeFitsPartLimit: for any hint an object 25% larger than announced still fits in
// 10,000 parts, each part within S3's bounds.
func TestPartSizeFitsPartLimit(t *testing.T) {
	for hint := int64(1); hint < 38<<40; hint = hint*3 + 12345 {
		part := s3.PartSize(hint, s3.DefaultPartFloor)
		if part < s3.MinPartSize || part > s3.MaxPartSize || part%s3.MiB != 0 {
			t.Fatalf("PartSize(%d) = %d: outside [5 MiB, 5 GiB] or not whole MiB", hint, part)
		}
		if parts := (hint + hint/4 + part - 1) / part; parts > s3.MaxParts {
			t.Fatalf("PartSize(%d) = %d needs %d parts for 1.25x the hint", hint, part, parts)
		}
	}
	if unknown := s3.PartSize(-1, 0) * s3.MaxParts; unknown < 1<<40 {
		t.Errorf("unknown size allows only %d bytes, want at least 1 TiB", unknown)
	}
}
