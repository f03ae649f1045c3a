package s3

// S3 multipart limits and this package's part sizing.
const (
	MiB = 1 << 20
	// MinPartSize and MaxPartSize bound every part but the last; MaxParts bounds their count.
	MinPartSize = 5 * MiB
	MaxPartSize = 5 << 30
	MaxParts    = 10_000
	// DefaultPartFloor is the smallest part size used unless Config.PartFloor says otherwise:
	// fewer, larger requests than S3's minimum, as minio-go does.
	DefaultPartFloor = 16 * MiB
	// UnknownSizePartSize is the part size of an upload without a size hint: 105 MiB parts
	// allow objects of up to 1.03 TiB (10,000 parts), at 105 MiB of memory per upload.
	UnknownSizePartSize = 105 * MiB
	// SmallObjectSize is the most an upload buffers before it starts a multipart upload; an
	// object of at most this size is sent with one PUT.
	SmallObjectSize = MinPartSize
)

// PartSize returns the part size for an upload expected to be sizeHint bytes (-1: unknown).
// It leaves 25% headroom (an object of up to 1.25 × sizeHint still fits in MaxParts parts),
// is at least floor (clamped to [MinPartSize, MaxPartSize]), is rounded up to a whole MiB and
// is at most MaxPartSize.
func PartSize(sizeHint, floor int64) int64 {
	floor = min(max(floor, MinPartSize), MaxPartSize)
	if sizeHint < 0 {
		return max(UnknownSizePartSize, floor)
	}
	need := sizeHint + sizeHint/4
	part := (need + MaxParts - 1) / MaxParts
	part = (part + MiB - 1) / MiB * MiB
	return min(max(part, floor), MaxPartSize)
}
