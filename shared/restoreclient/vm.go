package restoreclient

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"xbr/shared/catalog"
)

// ErrNoSuchVM is a VM name that no backup carries.
var ErrNoSuchVM = errors.New("no VM of that name has a backup")

// maxVMName bounds a VM name a client may send.
const maxVMName = 256

// VMMatch is one VM a name designates: its uuid and the pool it was backed
// up from ("" when Xen Orchestra wrote its backups).
type VMMatch struct {
	UUID string `json:"uuid"`
	Pool string `json:"pool,omitempty"`
}

func (m VMMatch) String() string {
	if m.Pool == "" {
		return m.UUID
	}
	return m.UUID + " in pool " + m.Pool
}

// AmbiguousVMError is a VM name several VMs share; the caller must give a
// uuid instead.
type AmbiguousVMError struct {
	Name    string
	Matches []VMMatch // sorted by uuid
}

func (e *AmbiguousVMError) Error() string {
	list := make([]string, len(e.Matches))
	for i, m := range e.Matches {
		list[i] = m.String()
	}
	return fmt.Sprintf("vm %q: names %d VMs (%s): give the uuid", e.Name, len(e.Matches), strings.Join(list, ", "))
}

// NoSuchVMError is a VM name that nothing known carries; it matches
// ErrNoSuchVM.
type NoSuchVMError struct {
	Name string
	// Where says where it was looked for, e.g. "has a backup" (the default)
	// or "is in the history".
	Where string
}

func (e *NoSuchVMError) Error() string {
	return fmt.Sprintf("vm: no VM named %q %s", e.Name, cmp.Or(e.Where, "has a backup"))
}

// Is makes errors.Is(err, ErrNoSuchVM) true.
func (e *NoSuchVMError) Is(target error) bool { return target == ErrNoSuchVM }

// IsVMUUID reports whether vm is written as a VM uuid rather than a name.
func IsVMUUID(vm string) bool { return catalog.ValidateVMUUID(vm) == nil }

// CheckVMName accepts what a client may send as a VM: 1-256 bytes of
// printable UTF-8.
func CheckVMName(vm string) error {
	switch {
	case strings.TrimSpace(vm) == "":
		return errors.New("vm: is empty")
	case len(vm) > maxVMName:
		return fmt.Errorf("vm %.40q…: longer than %d bytes", vm, maxVMName)
	case !utf8.ValidString(vm) || strings.IndexFunc(vm, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("vm %q: contains a control character or invalid UTF-8", vm)
	}
	return nil
}

// VM is a VM as a listing knows it: uuid, name, and pool ("" when unknown).
type VM struct{ UUID, Name, Pool string }

// ResolveVM is the one rule by which a VM given by a client (the CLI, the
// webhook, the chat command, the web page) is found among known VMs: a uuid
// is itself, known or not; a name is the uuid of the one VM of that exact
// name. A name none carries is a *NoSuchVMError, a name several VMs share
// an *AmbiguousVMError listing them.
func ResolveVM(vm string, known []VM) (string, error) {
	if IsVMUUID(vm) {
		return vm, nil
	}
	var matches []VMMatch
	for _, k := range known {
		if k.Name != vm {
			continue
		}
		m := VMMatch{UUID: k.UUID, Pool: k.Pool}
		if i := slices.IndexFunc(matches, func(x VMMatch) bool { return x.UUID == m.UUID }); i < 0 {
			matches = append(matches, m)
		} else if matches[i].Pool == "" {
			matches[i].Pool = m.Pool
		}
	}
	switch {
	case len(matches) == 0:
		return "", &NoSuchVMError{Name: vm}
	case len(matches) > 1:
		slices.SortFunc(matches, func(a, b VMMatch) int { return strings.Compare(a.UUID, b.UUID) })
		return "", &AmbiguousVMError{Name: vm, Matches: matches}
	}
	return matches[0].UUID, nil
}

// ByVM is the backups, in their order, of the VM vm designates among them
// (ResolveVM): a uuid with no backup gives none.
func ByVM(backups []catalog.Backup, vm string) ([]catalog.Backup, error) {
	known := make([]VM, 0, len(backups))
	for _, b := range backups {
		known = append(known, VM{UUID: b.VMUUID, Name: b.VMName, Pool: b.Pool})
	}
	uuid, err := ResolveVM(vm, known)
	if err != nil {
		return nil, err
	}
	var out []catalog.Backup
	for _, b := range backups {
		if b.VMUUID == uuid {
			out = append(out, b)
		}
	}
	return out, nil
}
