package repo

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Keys of the repository beside Xen Orchestra's tree on the same remote.
const (
	// Root is the repository's folder at the remote's root.
	Root = "xbr-repo"
	// ConfigKey holds the repository's Config (never a key).
	ConfigKey = Root + "/config.json"
	// chunksPrefix holds the chunks: chunks/<2 hex>/<64 hex>.
	chunksPrefix = Root + "/chunks/"
	// vmsPrefix holds the manifests: vms/<vm uuid>/<YYYYMMDDTHHMMSSZ>.json.
	vmsPrefix = Root + "/vms/"
	// sessionsPrefix holds the leases of running backups (see doc.go, "GC and backups").
	sessionsPrefix = Root + "/sessions/"
	// sweepPrefix holds the markers of GCs that are deleting chunks.
	sweepPrefix = Root + "/gc/sweeping/"
	// gcDuePrefix holds one marker per deletion of restore points that no GC has swept
	// after: gc/due/<YYYYMMDDTHHMMSSZ>_<random>.json.
	gcDuePrefix = Root + "/gc/due/"
	// gcDueListed lists those markers and gc/due.json, the single marker of earlier
	// builds, which GC and GCDue honour and remove alike.
	gcDueListed = Root + "/gc/due"
)

// timeLayout names a restore point, as Xen Orchestra names its backups.
const timeLayout = "20060102T150405Z"

// ChunkID names a chunk: the SHA-256 of its content, or HMAC-SHA-256 under the repository's
// id key when the repository is encrypted.
type ChunkID [32]byte

// String is the id's lowercase hex form, as it appears in keys and manifests.
func (id ChunkID) String() string { return hex.EncodeToString(id[:]) }

// ParseChunkID parses the 64 lowercase hex digits of a chunk id.
func ParseChunkID(s string) (ChunkID, error) {
	var id ChunkID
	if len(s) != 2*len(id) || strings.ToLower(s) != s {
		return id, fmt.Errorf("chunk id %q: want 64 lowercase hex digits", clip(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("chunk id %q: %w", clip(s), err)
	}
	return id, nil
}

// chunkKey is where the chunk id is stored.
func chunkKey(id ChunkID) string {
	s := id.String()
	return chunksPrefix + s[:2] + "/" + s
}

// chunkShard is the listing prefix of the chunks whose id starts with byte b.
func chunkShard(b int) string { return fmt.Sprintf("%s%02x/", chunksPrefix, b) }

// parseChunkKey returns the id stored under key, and whether key is a chunk's key.
func parseChunkKey(key string) (ChunkID, bool) {
	rest, ok := strings.CutPrefix(key, chunksPrefix)
	if !ok || len(rest) != 3+64 || rest[2] != '/' || rest[:2] != rest[3:5] {
		return ChunkID{}, false
	}
	id, err := ParseChunkID(rest[3:])
	return id, err == nil
}

// Point names one restore point: a VM and the time of its backup (whole seconds, UTC).
type Point struct {
	VM   string
	Time time.Time
}

// String is "<vm uuid>/<YYYYMMDDTHHMMSSZ>".
func (p Point) String() string { return p.VM + "/" + p.Time.UTC().Format(timeLayout) }

// key is the manifest's key.
func (p Point) key() string { return vmsPrefix + p.String() + ".json" }

// Validate checks the VM uuid and that the time is set.
func (p Point) Validate() error {
	if err := validVM(p.VM); err != nil {
		return err
	}
	if p.Time.IsZero() {
		return fmt.Errorf("restore point of vm %s: time is not set", p.VM)
	}
	return nil
}

// ParsePoint parses "<vm uuid>/<YYYYMMDDTHHMMSSZ>", the form String gives.
func ParsePoint(s string) (Point, error) {
	vm, ts, ok := strings.Cut(s, "/")
	if !ok {
		return Point{}, fmt.Errorf("restore point %q: want <vm uuid>/<YYYYMMDDTHHMMSSZ>", clip(s))
	}
	if err := validVM(vm); err != nil {
		return Point{}, err
	}
	t, err := time.Parse(timeLayout, ts)
	if err != nil || t.Format(timeLayout) != ts { // time.Parse takes a fraction the layout lacks
		return Point{}, fmt.Errorf("restore point %q: time %q: want YYYYMMDDTHHMMSSZ", clip(s), clip(ts))
	}
	return Point{VM: vm, Time: t}, nil
}

// parseManifestKey returns the point a manifest key names, and whether it names one.
func parseManifestKey(key string) (Point, bool) {
	rest, ok := strings.CutPrefix(key, vmsPrefix)
	if !ok {
		return Point{}, false
	}
	rest, ok = strings.CutSuffix(rest, ".json")
	if !ok {
		return Point{}, false
	}
	p, err := ParsePoint(rest)
	return p, err == nil
}

// validVM checks a VM uuid in its canonical lowercase form (it becomes a folder name).
func validVM(vm string) error {
	u, err := uuid.Parse(vm)
	if err != nil || u.String() != vm {
		return fmt.Errorf("vm uuid %q: want a lowercase canonical uuid", clip(vm))
	}
	return nil
}

// clip shortens outside input quoted in an error.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
