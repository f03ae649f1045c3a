package events

import "time"

// Transfer is how far one transfer has got: the fields every progress event
// (export, restore, replicate) shares. It is embedded without a JSON name,
// so its members sit in the payload beside the others, as they always did:
//
//	{"run_id": …, "bytes": 268435456, "total_bytes": 1073741824, "bytes_per_second": 314572800, "eta_seconds": 3}
type Transfer struct {
	// Bytes moved so far.
	Bytes int64 `json:"bytes"`
	// TotalBytes expected; 0 (absent) when unknown.
	TotalBytes int64 `json:"total_bytes,omitempty"`
	// BytesPerSecond is the mean rate since the transfer began.
	BytesPerSecond int64 `json:"bytes_per_second"`
	// ETASeconds is the time left at that rate, rounded up; 0 (absent) when
	// unknown.
	ETASeconds int64 `json:"eta_seconds,omitempty"`
}

// DefaultProgressEvery is how often a running transfer (export,
// incremental, replicate, restore) publishes its progress event: often
// enough that a terminal bar moves at least twice a second, rare enough (at
// most a few events a second per VM) not to flood the progress stream.
const DefaultProgressEvery = 400 * time.Millisecond

// TransferAt is the progress of a transfer that moved done bytes of total
// (0: unknown) in elapsed. A total below done was a wrong estimate and is
// reported unknown rather than wrong; the ETA needs a total and a rate.
func TransferAt(done, total int64, elapsed time.Duration) Transfer {
	t := Transfer{Bytes: done, TotalBytes: total}
	if total < done {
		t.TotalBytes = 0
	}
	if elapsed > 0 {
		t.BytesPerSecond = int64(float64(done) / elapsed.Seconds())
	}
	if t.BytesPerSecond > 0 && t.TotalBytes > done {
		t.ETASeconds = (t.TotalBytes - done + t.BytesPerSecond - 1) / t.BytesPerSecond
	}
	return t
}

func (c *checker) transfer(t Transfer) {
	c.nonNegative("bytes", t.Bytes)
	c.nonNegative("total_bytes", t.TotalBytes)
	c.nonNegative("bytes_per_second", t.BytesPerSecond)
	c.nonNegative("eta_seconds", t.ETASeconds)
}
