package repoimage

import (
	"context"
	"errors"
	"fmt"

	"xbr/shared/repo"
	"xbr/shared/xapi/xmlrpc"
	"xbr/shared/xva"
)

// Point is an opened restore point: its manifest header, its ova.xml and the disks the
// XVA carries, checked to agree.
type Point struct {
	rp     *repo.Repo
	point  repo.Point
	m      *repo.Manifest
	ova    []byte
	recs   xva.RepoRecords
	header *xva.Header
	disks  []xva.DiskRef
}

// Open reads restore point p of rp and checks that its records describe its disks.
func Open(ctx context.Context, rp *repo.Repo, p repo.Point) (*Point, error) {
	m, err := rp.Manifest(ctx, p)
	if err != nil {
		return nil, err
	}
	pt, err := fromManifest(m)
	if err != nil {
		return nil, fmt.Errorf("restore point %s: %w", p, err)
	}
	pt.rp, pt.point = rp, p
	return pt, nil
}

// Description is what a listing shows of a restore point.
type Description struct {
	VMName                           string
	Job, JobID, Schedule, ScheduleID string // empty for a point written before they were recorded
}

// Describe is what a listing shows of manifest m, without reading a disk.
func Describe(m *repo.Manifest) (Description, error) {
	pt, err := fromManifest(m)
	if err != nil {
		return Description{}, err
	}
	r := pt.recs
	return Description{VMName: pt.VMName(), Job: r.Job, JobID: r.JobID, Schedule: r.Schedule, ScheduleID: r.ScheduleID}, nil
}

// ErrRecords is wrapped by every error about a restore point's records or their agreement
// with its disks: the point cannot be restored as it is.
var ErrRecords = errors.New("restore point records")

func fromManifest(m *repo.Manifest) (*Point, error) {
	recs, err := xva.DecodeRepoRecords(m.Records)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecords, err)
	}
	h, err := recs.Header()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecords, err)
	}
	disks, err := h.Disks()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecords, err)
	}
	if len(disks) != len(m.Disks) {
		return nil, fmt.Errorf("%w: ova.xml has %d disks, the manifest %d", ErrRecords, len(disks), len(m.Disks))
	}
	for i, d := range disks {
		md := m.Disks[i]
		if md.Name != d.ID || md.Size != d.Size {
			return nil, fmt.Errorf("%w: disks[%d]: the manifest has %q of %d bytes, ova.xml %q of %d bytes",
				ErrRecords, i, md.Name, md.Size, d.ID, d.Size)
		}
	}
	return &Point{m: m, ova: []byte(recs.OVAXML), recs: recs, header: h, disks: disks}, nil
}

// Manifest is the point's manifest header.
func (p *Point) Manifest() *repo.Manifest { return p.m }

// VMName is the backed-up VM's name as the records give it, else (a point written before
// they did) the name_label of the VM record in ova.xml ("" when it has none).
func (p *Point) VMName() string {
	if p.recs.VMName != "" {
		return p.recs.VMName
	}
	for _, o := range p.header.Objects {
		if o.Class == "VM" {
			name, _ := xmlrpc.AsString(o.Snapshot["name_label"])
			return name
		}
	}
	return ""
}

// ImportSize is a restore's progress total: an upper bound of the bytes of the point's XVA.
// xva.Writer carries each disk's chunks of xva.ChunkSize that are not all zero, and its
// first and last; a repository chunk that is not zero makes at most the archive chunks it
// overlaps carried, so with 1 MiB repository chunks (the default) the bound is within two
// archive chunks per disk, and smaller ones may give no saving at all (the manifest's
// counts do not say where the zero chunks lie). Each carried chunk adds its tar header and
// checksum entry; ova.xml and the end of the archive add theirs.
func (p *Point) ImportSize() int64 {
	const ac = xva.ChunkSize
	const entry = 3 * 512 // a chunk's tar header, its checksum's header and the padded checksum
	pad := func(n int64) int64 { return (n + 511) / 512 * 512 }
	n := 512 + pad(int64(len(p.ova))) + 2*512
	first := int64(-1) // the archive's first chunk: under ac, xva.Writer omits no zero chunk
	for _, d := range p.m.Disks {
		chunks := (d.Size + ac - 1) / ac
		if first < 0 && d.Size > 0 {
			first = min(d.Size, ac)
		}
		cs := int64(d.ChunkSize)
		span := (cs + ac - 1) / ac // archive chunks a repository chunk overlaps
		if cs%ac != 0 && ac%cs != 0 {
			span++ // not aligned to them: one more
		}
		carried := min(chunks, (d.Chunks-d.ZeroChunks)*span+2)
		if first != ac {
			carried = chunks
		}
		last := d.Size - (chunks-1)*ac // always carried, and maybe short
		n += (carried-1)*ac + pad(last) + carried*entry
	}
	return n
}

// Size is the sum of the disks' sizes: the bytes a restore reads.
func (p *Point) Size() int64 {
	var n int64
	for _, d := range p.m.Disks {
		n += d.Size
	}
	return n
}
