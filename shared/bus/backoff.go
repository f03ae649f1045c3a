package bus

import "time"

// ExponentialBackoff returns the nak delay after the given delivery: first
// after delivery 1, doubling each time, capped at limit.
func ExponentialBackoff(first, limit time.Duration) func(delivery uint64) time.Duration {
	return func(delivery uint64) time.Duration {
		d := first
		for i := uint64(1); i < delivery && d < limit; i++ {
			d *= 2
		}
		return min(d, limit)
	}
}
