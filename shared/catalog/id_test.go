package catalog_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
)

const (
	vmA = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f"
	vmB = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
)

func TestParseIDValid(t *testing.T) {
	tests := []struct {
		in       string
		remote   string
		vm       string
		time     time.Time
		dataKey  string
		metaKey  string
		checkKey string
	}{
		{
			in: "nfs:" + vmA + "/20231012T101112Z", remote: "nfs", vm: vmA,
			time:     time.Date(2023, 10, 12, 10, 11, 12, 0, time.UTC),
			dataKey:  "xo-vm-backups/" + vmA + "/20231012T101112Z.xva",
			metaKey:  "xo-vm-backups/" + vmA + "/20231012T101112Z.json",
			checkKey: "xo-vm-backups/" + vmA + "/20231012T101112Z.xva.checksum",
		},
		{
			in: "Gateway_2.s3-eu:" + vmB + "/20280229T235959Z", remote: "Gateway_2.s3-eu", vm: vmB,
			time:     time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC),
			dataKey:  "xo-vm-backups/" + vmB + "/20280229T235959Z.xva",
			metaKey:  "xo-vm-backups/" + vmB + "/20280229T235959Z.json",
			checkKey: "xo-vm-backups/" + vmB + "/20280229T235959Z.xva.checksum",
		},
	}
	for _, tc := range tests {
		id, err := catalog.ParseID(tc.in)
		if err != nil {
			t.Fatalf("ParseID(%q): %v", tc.in, err)
		}
		if id.Remote != tc.remote || id.VM != tc.vm || !id.Time.Equal(tc.time) {
			t.Errorf("ParseID(%q) = %+v", tc.in, id)
		}
		if id.String() != tc.in {
			t.Errorf("String() = %q, want %q", id.String(), tc.in)
		}
		if id.DataKey() != tc.dataKey || id.MetaKey() != tc.metaKey || id.ChecksumKey() != tc.checkKey {
			t.Errorf("keys = %q %q %q", id.DataKey(), id.MetaKey(), id.ChecksumKey())
		}
	}
}

func TestParseIDRejects(t *testing.T) {
	good := "nfs:" + vmA + "/20231012T101112Z"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"no colon", vmA + "/20231012T101112Z", "missing ':'"},
		{"dot dot", "nfs:../" + vmA + "/20231012T101112Z", `".."`},
		{"dot dot in remote", "a..b:" + vmA + "/20231012T101112Z", `".."`},
		{"traversal in ts", "nfs:" + vmA + "/../../etc/passwd", `".."`},
		{"absolute", "/nfs:" + vmA + "/20231012T101112Z", "absolute path"},
		{"absolute path after colon", "nfs:/" + vmA + "/20231012T101112Z", "vm uuid"},
		{"extra slash", "nfs:" + vmA + "/20231012T101112Z/x", "timestamp"},
		{"double slash", "nfs:" + vmA + "//20231012T101112Z", "timestamp"},
		{"no slash", "nfs:" + vmA + "20231012T101112Z", "missing '/'"},
		{"slash in remote", "n/fs:" + vmA + "/20231012T101112Z", "remote name"},
		{"empty remote", ":" + vmA + "/20231012T101112Z", "remote name is empty"},
		{"remote starts with dot", ".nfs:" + vmA + "/20231012T101112Z", "must start with"},
		{"remote too long", strings.Repeat("r", 65) + ":" + vmA + "/20231012T101112Z", "longer"},
		{"NUL", "nfs:" + vmA + "/20231012T101112Z\x00", "byte 0x00"},
		{"newline", "nfs\n:" + vmA + "/20231012T101112Z", "byte 0x0a"},
		{"space", "nfs :" + vmA + "/20231012T101112Z", "byte 0x20 (a space) at offset 3"},
		{"DEL", "nfs\x7f:" + vmA + "/20231012T101112Z", "byte 0x7f"},
		{"UTF-8", "nfsé:" + vmA + "/20231012T101112Z", "byte 0xc3"},
		{"invalid UTF-8", "nfs\xff:" + vmA + "/20231012T101112Z", "byte 0xff"},
		{"URL-encoded dots", "nfs:%2e%2e/" + vmA + "/20231012T101112Z", "'%'"},
		{"URL-encoded slash", "nfs:" + vmA + "%2F20231012T101112Z", "'%'"},
		{"backslash", "nfs:" + vmA + "\\20231012T101112Z", "backslash"},
		{"uppercase uuid", "nfs:" + strings.ToUpper(vmA) + "/20231012T101112Z", "vm uuid"},
		{"short uuid", "nfs:0f5c6f7e/20231012T101112Z", "vm uuid"},
		{"uuid no dashes", "nfs:0f5c6f7e03a4b04c2d09e8f01a2b3c4d5e6f/20231012T101112Z", "want '-'"},
		{"ts without Z", "nfs:" + vmA + "/20231012T101112", "timestamp"},
		{"ts with suffix", "nfs:" + vmA + "/20231012T101112Z.json", "timestamp"},
		{"ts month 13", "nfs:" + vmA + "/20231312T101112Z", "not a valid UTC"},
		{"ts Feb 30", "nfs:" + vmA + "/20230230T101112Z", "not a valid UTC"},
		{"ts hour 24", "nfs:" + vmA + "/20231012T241112Z", "not a valid UTC"},
		{"ts signs", "nfs:" + vmA + "/+0231012T101112Z", "timestamp"},
		{"too long", good + strings.Repeat("x", 200), "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := catalog.ParseID(tc.in)
			if err == nil {
				t.Fatalf("ParseID(%q) accepted", tc.in)
			}
			if !errors.Is(err, catalog.ErrInvalidID) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalidID mentioning %q", err, tc.want)
			}
			for i := 0; i < len(err.Error()); i++ {
				if c := err.Error()[i]; c < 0x20 || c == 0x7f {
					t.Errorf("error text carries byte 0x%02x: %q", c, err.Error())
				}
			}
		})
	}
}

func TestNewID(t *testing.T) {
	at := time.Date(2023, 10, 12, 12, 11, 12, 381e6, time.FixedZone("CEST", 2*3600))
	id, err := catalog.NewID("nfs", vmA, at)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id.String(), "nfs:"+vmA+"/20231012T101112Z"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if _, err := catalog.NewID("n/fs", vmA, at); err == nil || !strings.Contains(err.Error(), `remote name "n/fs"`) {
		t.Errorf("bad remote: err = %v", err)
	}
	if _, err := catalog.NewID("nfs", "vm", at); err == nil || !strings.Contains(err.Error(), `vm uuid "vm"`) {
		t.Errorf("bad uuid: err = %v", err)
	}
}

func TestTimestamp(t *testing.T) {
	at := time.Date(2023, 10, 12, 10, 11, 12, 999e6, time.UTC)
	if got := catalog.FormatTimestamp(at.In(time.FixedZone("X", -5*3600))); got != "20231012T101112Z" {
		t.Errorf("FormatTimestamp = %q", got)
	}
	got, err := catalog.ParseTimestamp("20231012T101112Z")
	if err != nil || !got.Equal(at.Truncate(time.Second)) || got.Location() != time.UTC {
		t.Errorf("ParseTimestamp = %v, %v", got, err)
	}
	for _, bad := range []string{"", "20231012T101112z", "2023-10-12T10:11:12Z", "20231012 101112Z", "20231012T101160Z", "2023101T2101112Z"} {
		if _, err := catalog.ParseTimestamp(bad); err == nil || !strings.Contains(err.Error(), "timestamp") {
			t.Errorf("ParseTimestamp(%q): err = %v", bad, err)
		}
	}
}

func TestIDJSON(t *testing.T) {
	var v struct {
		ID catalog.ID `json:"id"`
	}
	in := `{"id":"nfs:` + vmA + `/20231012T101112Z"}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil || string(out) != in {
		t.Errorf("Marshal = %s, %v; want %s", out, err, in)
	}
	err = json.Unmarshal([]byte(`{"id":"nfs:../../etc/passwd"}`), &v)
	if !errors.Is(err, catalog.ErrInvalidID) {
		t.Errorf("bad id in JSON: err = %v", err)
	}
}

func TestParseIDRepositoryPoint(t *testing.T) {
	in := "nfs:xbr-repo/" + vmA + "/20231012T101112Z"
	id, err := catalog.ParseID(in)
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.ID{Remote: "nfs", VM: vmA, Time: time.Date(2023, 10, 12, 10, 11, 12, 0, time.UTC), Repo: true}
	if id != want || id.String() != in {
		t.Fatalf("ParseID(%q) = %+v (%q), want %+v", in, id, id.String(), want)
	}
	if p, ok := id.RepoPoint(); !ok || p != vmA+"/20231012T101112Z" {
		t.Errorf("RepoPoint() = %q, %v", p, ok)
	}
	full, err := catalog.ParseID("nfs:" + vmA + "/20231012T101112Z")
	if err != nil || full.Repo || full == id {
		t.Fatalf("the full backup of the same second: %+v, %v", full, err)
	}
	if _, ok := full.RepoPoint(); ok {
		t.Error("a full backup's id says it is a repository point")
	}
	made, err := catalog.NewRepoID("nfs", vmA, want.Time.Add(400*time.Millisecond))
	if err != nil || made != id {
		t.Errorf("NewRepoID = %+v, %v; want %+v", made, err, id)
	}
	for name, key := range map[string]func() string{"DataKey": id.DataKey, "MetaKey": id.MetaKey, "ChecksumKey": id.ChecksumKey} {
		if k, panicked := keyOf(key); !panicked {
			t.Errorf("%s of a repository point = %q, want a panic", name, k)
		}
	}
}

func TestParseIDRepositoryRejects(t *testing.T) {
	for _, in := range []string{
		"nfs:xbr-repo/",
		"nfs:xbr-repo",
		"nfs:xbr-repo/xbr-repo/" + vmA + "/20231012T101112Z",
		"nfs:xbr-repo//" + vmA + "/20231012T101112Z",
		"nfs:xbr-repo/" + vmA + "/20231012T101112Z.json",
		"nfs:XBR-REPO/" + vmA + "/20231012T101112Z",
		"nfs:xbr-repo/../" + vmA + "/20231012T101112Z",
		"nfs:xbr-repo/" + vmA,
	} {
		if id, err := catalog.ParseID(in); !errors.Is(err, catalog.ErrInvalidID) {
			t.Errorf("ParseID(%q) = %+v, %v; want ErrInvalidID", in, id, err)
		}
	}
}

// keyOf calls key, reporting whether it panicked.
func keyOf(key func() string) (k string, panicked bool) {
	defer func() { panicked = recover() != nil }()
	return key(), false
}
