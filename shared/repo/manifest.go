package repo

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
	"unicode"
)

// Manifest format values and limits.
const (
	ManifestFormat = "xbr-repo-manifest"
	// ManifestVersion 2 added image_digest and the chunk sums of encrypted repositories, and
	// made sha256 optional. It replaced version 1, which no release wrote: version 1 is
	// refused like any unknown version.
	ManifestVersion = 2
	// maxHeader bounds everything before the chunk ids (the VM's records included).
	maxHeader = 32 << 20
	maxDisks  = 1024
	zeroMark  = "zero"
)

// zeroID stands for a zero chunk inside this package (never a stored chunk).
var zeroID ChunkID

// Manifest is a restore point's header: everything but the chunk ids, which stream after
// it. The manifest is written last; its presence is the restore point's commit marker.
type Manifest struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	VM      string    `json:"vm_uuid"`
	Time    time.Time `json:"time"`
	// Records are the VM's XAPI records as the caller gave them (opaque JSON).
	Records json.RawMessage `json:"vm"`
	Disks   []Disk          `json:"disks"`
}

// Disk describes one disk image of a restore point.
type Disk struct {
	// Name is the caller's name for the disk (e.g. its VBD device or VDI uuid).
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	ChunkSize int    `json:"chunk_size"`
	// Chunks is ceil(Size/ChunkSize); ZeroChunks of them are zero and stored nowhere.
	Chunks     int64 `json:"chunks"`
	ZeroChunks int64 `json:"zero_chunks"`
	// ImageDigest is the hex SHA-256 over the concatenated SHA-256s of the disk's chunks,
	// in order (32 bytes each; a zero chunk's is the SHA-256 of that many zero bytes, the
	// last chunk's over its actual length): a hash list that binds the whole image as a
	// flat SHA-256 does, computed from per-chunk digests alone. See doc.go.
	ImageDigest string `json:"image_digest"`
	// SHA256 is the hex SHA-256 of the whole disk image, optional: checked by readers when
	// present, never written (ImageDigest binds the image without a second hash pass).
	SHA256 string `json:"sha256,omitempty"`
}

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Point is the restore point the manifest describes.
func (m *Manifest) Point() Point { return Point{VM: m.VM, Time: m.Time} }

// Validate checks the header; errors name the field and its value.
func (m *Manifest) Validate() error {
	switch {
	case m.Format != ManifestFormat:
		return fmt.Errorf("manifest: format %q: want %q", clip(m.Format), ManifestFormat)
	case m.Version != ManifestVersion:
		return fmt.Errorf("manifest: version %d: this xbr reads version %d", m.Version, ManifestVersion)
	case m.Time.IsZero():
		return errors.New("manifest: time is not set")
	case len(m.Disks) > maxDisks:
		return fmt.Errorf("manifest: %d disks, at most %d", len(m.Disks), maxDisks)
	}
	if err := validVM(m.VM); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	for i, d := range m.Disks {
		if err := d.validate(); err != nil {
			return fmt.Errorf("manifest: disks[%d]: %w", i, err)
		}
	}
	return nil
}

func (d Disk) validate() error {
	switch {
	case d.Name == "" || len(d.Name) > 200:
		return fmt.Errorf("name %q: want 1 to 200 bytes", clip(d.Name))
	case d.ChunkSize < MinChunkSize || d.ChunkSize > MaxChunkSize || d.ChunkSize%MinChunkSize != 0:
		return fmt.Errorf("chunk_size %d: want a multiple of %d up to %d", d.ChunkSize, MinChunkSize, MaxChunkSize)
	case d.Size < 0 || d.Size > 1<<50:
		return fmt.Errorf("size %d: want 0 to 2^50 bytes", d.Size)
	case d.Chunks != chunkCount(d.Size, d.ChunkSize):
		return fmt.Errorf("chunks %d: size %d in chunks of %d needs %d", d.Chunks, d.Size, d.ChunkSize, chunkCount(d.Size, d.ChunkSize))
	case d.ZeroChunks < 0 || d.ZeroChunks > d.Chunks:
		return fmt.Errorf("zero_chunks %d: want 0 to %d", d.ZeroChunks, d.Chunks)
	case !hexDigest.MatchString(d.ImageDigest):
		return fmt.Errorf("image_digest %q: want 64 lowercase hex digits", clip(d.ImageDigest))
	case d.SHA256 != "" && !hexDigest.MatchString(d.SHA256):
		return fmt.Errorf("sha256 %q: want 64 lowercase hex digits or none", clip(d.SHA256))
	}
	for _, r := range d.Name {
		if unicode.IsControl(r) {
			return fmt.Errorf("name %q: control character %U", clip(d.Name), r)
		}
	}
	return nil
}

// chunkCount is the number of chunks of a disk.
func chunkCount(size int64, chunkSize int) int64 {
	return (size + int64(chunkSize) - 1) / int64(chunkSize)
}

// chunkLen is the length of chunk i of a disk (the last one may be short).
func chunkLen(size int64, chunkSize int, i int64) int {
	return int(min(int64(chunkSize), size-i*int64(chunkSize)))
}

// entry is one chunk of a manifest: its id (zeroID for a zero chunk) and, for a stored
// chunk, the plain SHA-256 of its content: the id itself in a plain repository, recorded
// beside the keyed id in an encrypted one (in the sealed manifest).
type entry struct {
	id  ChunkID
	sum [32]byte
}

// writeManifest streams m then the chunk entries of each disk, as ids gives them: "zero",
// "<id>" (plain), or "<id>:<sha256>" (keyed: an encrypted repository).
func writeManifest(w io.Writer, m *Manifest, keyed bool, ids func(disk int, emit func(entry) error) error) error {
	head, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"chunk_ids":[`)
	for i := range m.Disks {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('[')
		first := true
		err := ids(i, func(e entry) error {
			if !first {
				bw.WriteByte(',')
			}
			first = false
			switch {
			case e.id == zeroID:
				bw.WriteString(`"` + zeroMark + `"`)
			case keyed:
				bw.WriteString(`"` + e.id.String() + ":" + hex.EncodeToString(e.sum[:]) + `"`)
			default:
				bw.WriteString(`"` + e.id.String() + `"`)
			}
			return nil
		})
		if err != nil {
			return err
		}
		bw.WriteByte(']')
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
