package repoimage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// RecordsFormat is the format of the manifest records this package reads.
const RecordsFormat = "xbr-ova-1"

// maxOVA bounds ova.xml (the repository bounds the whole manifest header at 32 MiB).
const maxOVA = 32 << 20

// ErrRecords is wrapped by every error about a restore point's records or their agreement
// with its disks: the point cannot be restored as it is.
var ErrRecords = errors.New("restore point records")

type records struct {
	Format string `json:"format"`
	OVAXML string `json:"ova_xml"`
}

// ParseRecords reads a manifest's records strictly (one JSON object, known fields only,
// format xbr-ova-1, a non-empty ova_xml) and returns the ova.xml text.
func ParseRecords(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var r records
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecords, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the records object", ErrRecords)
	}
	switch {
	case r.Format != RecordsFormat:
		return nil, fmt.Errorf("%w: format %.40q: want %q", ErrRecords, r.Format, RecordsFormat)
	case r.OVAXML == "":
		return nil, fmt.Errorf("%w: ova_xml is empty", ErrRecords)
	case len(r.OVAXML) > maxOVA:
		return nil, fmt.Errorf("%w: ova_xml: %d bytes, at most %d", ErrRecords, len(r.OVAXML), maxOVA)
	}
	return []byte(r.OVAXML), nil
}
