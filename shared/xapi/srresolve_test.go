package xapi_test

import (
	"errors"
	"strings"
	"testing"

	"xbr/shared/xapi"
)

func TestPickSR(t *testing.T) {
	const (
		local = "0f0e2a6c-6c1c-4b1e-9a3e-1d2c3b4a5f60"
		nfs1  = "1f0e2a6c-6c1c-4b1e-9a3e-1d2c3b4a5f61"
		nfs2  = "2f0e2a6c-6c1c-4b1e-9a3e-1d2c3b4a5f62"
		iso   = "3f0e2a6c-6c1c-4b1e-9a3e-1d2c3b4a5f63"
	)
	srs := map[xapi.SRRef]xapi.SR{
		"OpaqueRef:local": {UUID: local, NameLabel: "Local storage", Type: "ext", ContentType: "user"},
		"OpaqueRef:nfs1":  {UUID: nfs1, NameLabel: "NFS", Type: "nfs", ContentType: "user"},
		"OpaqueRef:nfs2":  {UUID: nfs2, NameLabel: "NFS", Type: "nfs", ContentType: "user"},
		"OpaqueRef:iso":   {UUID: iso, NameLabel: "ISOs", Type: "iso", ContentType: "iso"},
	}
	for _, c := range []struct {
		want, def, ref string
		err            error
		text           string
	}{
		{want: "Local storage", ref: "OpaqueRef:local"},
		{want: local, ref: "OpaqueRef:local"},
		{want: strings.ToUpper(nfs2), ref: "OpaqueRef:nfs2"},
		{want: "", def: "OpaqueRef:nfs1", ref: "OpaqueRef:nfs1"},
		{want: "", def: "OpaqueRef:NULL", err: xapi.ErrNoDefaultSR},
		{want: "", def: "OpaqueRef:iso", err: xapi.ErrNoDefaultSR},
		{want: "nope", err: xapi.ErrNoSuchSR, text: `sr "nope": no SR that can hold disks has this uuid or name`},
		{want: "ISOs", err: xapi.ErrNoSuchSR},
		{want: iso, err: xapi.ErrNoSuchSR},
		{want: "NFS", err: xapi.ErrAmbiguousSR, text: `sr "NFS": several SRs have this name (` + nfs1 + ", " + nfs2 + "): give the uuid"},
	} {
		ref, sr, err := xapi.PickSR(srs, xapi.SRRef(c.def), c.want)
		switch {
		case c.err != nil && (!errors.Is(err, c.err) || (c.text != "" && err.Error() != c.text)):
			t.Errorf("%q: %v, want %v %q", c.want, err, c.err, c.text)
		case c.err == nil && (err != nil || string(ref) != c.ref || sr.UUID != srs[ref].UUID):
			t.Errorf("%q: %s %+v %v, want %s", c.want, ref, sr, err, c.ref)
		}
	}
}
