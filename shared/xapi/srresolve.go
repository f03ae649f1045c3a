package xapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Why an SR named by a user cannot be used; the doors (CLI, webhook, web
// page, chat) map them to errors naming the field, the functions to final
// failures.
var (
	// ErrNoSuchSR: no SR that can hold disks has this uuid or name.
	ErrNoSuchSR = errors.New("no SR that can hold disks has this uuid or name")
	// ErrAmbiguousSR: several such SRs have this name; the uuid is needed.
	ErrAmbiguousSR = errors.New("several SRs have this name")
	// ErrNoDefaultSR: no SR was named and the pool has no default SR.
	ErrNoDefaultSR = errors.New("the pool has no default SR")
)

// SRChoiceError is an SR a user named that cannot be used: Err is one of
// the sentinels above, UUIDs the candidates of an ambiguous name.
type SRChoiceError struct {
	Want  string
	Err   error
	UUIDs []string
}

func (e *SRChoiceError) Error() string { return fmt.Sprintf("sr %q: %s", e.Want, e.Problem()) }

// Unwrap is the sentinel.
func (e *SRChoiceError) Unwrap() error { return e.Err }

// Problem is the error without the SR's name, for an error naming the field.
func (e *SRChoiceError) Problem() string {
	if len(e.UUIDs) > 0 {
		return fmt.Sprintf("%s (%s): give the uuid", e.Err, strings.Join(e.UUIDs, ", "))
	}
	return e.Err.Error()
}

// HoldsDisks reports whether the SR can take a VM's disks (not an ISO
// library, not a removable device).
func (sr SR) HoldsDisks() bool {
	return sr.ContentType != "iso" && sr.Type != "iso" && sr.Type != "udev"
}

// SRSource is what ResolveSR reads; *Client is one.
type SRSource interface {
	SRs(ctx context.Context) (map[SRRef]SR, error)
	Pool(ctx context.Context) (PoolRef, Pool, error)
}

// ResolveSR finds the SR named by want on the pool of c: its uuid (in any
// case) or its name, which must be unique; the pool's default SR when want
// is "". An unusable choice is an *SRChoiceError (or ErrNoDefaultSR); other
// errors are XAPI's.
func ResolveSR(ctx context.Context, c SRSource, want string) (SRRef, SR, error) {
	srs, err := c.SRs(ctx)
	if err != nil {
		return "", SR{}, fmt.Errorf("list SRs: %w", err)
	}
	var def SRRef
	if want == "" {
		_, pool, err := c.Pool(ctx)
		if err != nil {
			return "", SR{}, fmt.Errorf("read the pool's default SR: %w", err)
		}
		def = pool.DefaultSR
	}
	return PickSR(srs, def, want)
}

// PickSR is ResolveSR over the SR records srs and the pool's default SR.
func PickSR(srs map[SRRef]SR, defaultSR SRRef, want string) (SRRef, SR, error) {
	if want == "" {
		sr, ok := srs[defaultSR]
		if defaultSR.IsNull() || !ok || !sr.HoldsDisks() {
			return "", SR{}, ErrNoDefaultSR
		}
		return defaultSR, sr, nil
	}
	var byName []SRRef
	for ref, sr := range srs {
		switch {
		case !sr.HoldsDisks():
		case strings.EqualFold(sr.UUID, want):
			return ref, sr, nil
		case sr.NameLabel == want:
			byName = append(byName, ref)
		}
	}
	switch len(byName) {
	case 0:
		return "", SR{}, &SRChoiceError{Want: want, Err: ErrNoSuchSR}
	case 1:
		return byName[0], srs[byName[0]], nil
	}
	uuids := make([]string, len(byName))
	for i, ref := range byName {
		uuids[i] = srs[ref].UUID
	}
	slices.Sort(uuids)
	return "", SR{}, &SRChoiceError{Want: want, Err: ErrAmbiguousSR, UUIDs: uuids}
}
