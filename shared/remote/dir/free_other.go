//go:build !linux

package dir

// FreeBytes is unknown off Linux (-1).
func FreeBytes(string) int64 { return -1 }

// FreeBytes is unknown off Linux (-1).
func (d *Dir) FreeBytes() int64 { return -1 }
