package compress_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"xbr/shared/compress"
)

func TestParseCodec(t *testing.T) {
	tests := []struct {
		in   string
		want compress.Codec
		err  string
	}{
		{"none", compress.None, ""},
		{"gzip", compress.Gzip, ""},
		{"zstd", compress.Zstd, ""},
		{"", "", `unknown codec ""`},
		{"GZIP", "", `unknown codec "GZIP"`},
		{"true", "", `unknown codec "true"`},
	}
	for _, tt := range tests {
		got, err := compress.ParseCodec(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseCodec(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in   []byte
		want compress.Codec
	}{
		{nil, compress.None},
		{[]byte{0x1f}, compress.None},
		{[]byte{0x1f, 0x8b}, compress.Gzip},
		{[]byte{0x1f, 0x8b, 8, 0}, compress.Gzip},
		{[]byte{0x28, 0xb5, 0x2f}, compress.None},
		{[]byte{0x28, 0xb5, 0x2f, 0xfd, 0}, compress.Zstd},
		{[]byte("ova.xml\x00"), compress.None},
	}
	for _, tt := range tests {
		if got := compress.Detect(tt.in); got != tt.want {
			t.Errorf("Detect(% x) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// payload is compressible text with a random tail.
func payload(n int) []byte {
	line := "2024-01-01 INFO backup of vm1 done\n"
	b := []byte(strings.Repeat(line, n/len(line)+1))[:n]
	rng := rand.New(rand.NewPCG(1, 2))
	for i := n / 2; i < n; i += 3 {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []compress.Codec{compress.None, compress.Gzip, compress.Zstd} {
		for _, opts := range []compress.WriterOptions{{}, {Level: 1, Concurrency: 1}, {Level: 9, Concurrency: 3}} {
			for _, n := range []int{0, 1, 3, 2 << 20} {
				data := payload(n)
				var buf bytes.Buffer
				w, err := compress.NewWriter(&buf, c, opts)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write(data); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if c != compress.None && n > 1000 && buf.Len() >= n {
					t.Errorf("%s %+v: %d bytes compressed to %d", c, opts, n, buf.Len())
				}
				r, got, err := compress.NewReader(&buf)
				if err != nil {
					t.Fatal(err)
				}
				out, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(out, data) || r.Close() != nil {
					t.Fatalf("%s %+v %d bytes: read back %d bytes, equal %v, err %v", c, opts, n, len(out), bytes.Equal(out, data), err)
				}
				if got != c {
					t.Errorf("%s stream detected as %s", c, got)
				}
			}
		}
	}
}

// TestGzipIsStandard checks pgzip's output with the standard library and the
// gzip binary (XAPI's importer pipes through it).
func TestGzipIsStandard(t *testing.T) {
	data := payload(3 << 20)
	var buf bytes.Buffer
	w, _ := compress.NewWriter(&buf, compress.Gzip, compress.WriterOptions{})
	w.Write(data)
	w.Close()
	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := io.ReadAll(zr); err != nil || !bytes.Equal(out, data) {
		t.Fatalf("compress/gzip read %d bytes, err %v", len(out), err)
	}
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Log("no gzip binary; checked with compress/gzip only")
		return
	}
	cmd := exec.Command("gzip", "-dc")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err := cmd.Output()
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("gzip -dc: %d bytes, %v", len(out), err)
	}
}

func TestWriterErrors(t *testing.T) {
	tests := []struct {
		c    compress.Codec
		opts compress.WriterOptions
		want string
	}{
		{"lz4", compress.WriterOptions{}, `unknown codec "lz4"`},
		{compress.Gzip, compress.WriterOptions{Level: 10}, "gzip level 10 out of range"},
		{compress.Gzip, compress.WriterOptions{Level: -1}, "gzip level -1 out of range"},
		{compress.Zstd, compress.WriterOptions{Level: 23}, "zstd level 23 out of range"},
	}
	for _, tt := range tests {
		_, err := compress.NewWriter(io.Discard, tt.c, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewWriter(%s, %+v) = %v, want %q", tt.c, tt.opts, err, tt.want)
		}
	}
}

func TestReaderBadStream(t *testing.T) {
	for _, in := range [][]byte{{0x1f, 0x8b, 0, 0}, {0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff}} {
		r, _, err := compress.NewReader(bytes.NewReader(in))
		if err == nil {
			_, err = io.ReadAll(r)
		}
		if err == nil {
			t.Errorf("% x: no error", in)
		}
	}
}
