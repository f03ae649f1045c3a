package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

// pool is a simulated XCP-ng pool served over HTTP for a test.
type pool struct {
	sim  *xapisim.Server
	url  string
	user string
	pass string
}

func startPool(t *testing.T, o xapisim.Options) *pool {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	sim, err := xapisim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	user, pass := sim.Credentials()
	return &pool{sim: sim, url: url, user: user, pass: pass}
}

// userVMs are the ordinary VMs of the pool (no snapshots, templates, dom0).
func (p *pool) userVMs() []xapisim.VMInfo {
	var out []xapisim.VMInfo
	for _, v := range p.sim.VMs() {
		if !v.IsSnapshot && !v.IsTemplate && !strings.HasPrefix(v.NameLabel, "Control domain") {
			out = append(out, v)
		}
	}
	return out
}

// diskDigests maps each disk VDI's name_label to the SHA-256 of its content.
func (p *pool) diskDigests(t *testing.T, vm xapisim.VMInfo) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ref := range vm.VDIs {
		rec, err := p.sim.Record("VDI", ref)
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := p.sim.VDIContent(ref)
		if err != nil {
			t.Fatal(err)
		}
		out[rec["name_label"].(string)] = digest(t, r)
	}
	return out
}

func digest(t *testing.T, r io.Reader) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// xvaDigests decodes a stored backup (any codec) and digests each disk by the
// name_label of its VDI record in ova.xml.
func xvaDigests(t *testing.T, r io.Reader) (map[string]string, compress.Codec) {
	t.Helper()
	xr, err := xva.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	defer xr.Close()
	out := map[string]string{}
	for {
		d, body, err := xr.NextDisk()
		if err == io.EOF {
			return out, xr.Codec()
		}
		if err != nil {
			t.Fatal(err)
		}
		name, _ := d.VDI["name_label"].(string)
		out[name] = digest(t, body)
	}
}

// s3Remote starts the S3 gateway with a bucket and returns the remote and its config.
func s3Remote(t *testing.T, bucket string) (*s3test.Gateway, remote.Remote) {
	t.Helper()
	gw := s3test.Start(t)
	gw.NewBucket(t, bucket)
	b, err := s3.New(context.Background(), s3.Config{Name: "gateway", Endpoint: gw.Endpoint, Bucket: bucket,
		AccessKey: gw.AccessKey, SecretKey: gw.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return gw, b
}

func dirRemote(t *testing.T, name string) (string, remote.Remote) {
	t.Helper()
	path := t.TempDir()
	d, err := dir.New(name, path)
	if err != nil {
		t.Fatal(err)
	}
	return path, d
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// listBackups lists a remote's committed backups, failing on damaged metadata.
func listBackups(t *testing.T, r remote.Remote, vm string) []catalog.Backup {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bs, problems, err := catalog.List(ctx, r, catalog.Filter{VM: vm})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("damaged backups on %s: %v", r.Name(), problems)
	}
	return bs
}

func configYAML(p *pool, remotes, job string) string {
	return fmt.Sprintf(`pools:
  - name: lab
    url: %s
    username: %s
    password: ${XBR_TEST_POOL_PASSWORD}
remotes:
%s
jobs:
%s`, p.url, p.user, remotes, job)
}
