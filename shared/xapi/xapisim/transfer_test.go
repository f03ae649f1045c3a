package xapisim_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"xbr/shared/compress"
	"xbr/shared/vhd"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xapi/xmlrpc"
	"xbr/shared/xva"
)

// export downloads /export of vm with the given extra query.
func export(t *testing.T, url, sess, vm, query string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/export/?session_id=%s&ref=%s%s", url, sess, vm, query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !strings.Contains(query, "&drop") {
		t.Fatal(err)
	}
	return resp, body
}

// importXVA uploads body to /import/ with a task and returns the task record.
func importXVA(t *testing.T, s *xapisim.Server, url, sess string, body []byte) map[string]any {
	t.Helper()
	task := must(t, url, "task.create", sess, "import", "").(string)
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/import/?session_id=%s&task_id=%s", url, sess, task), bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil { // a failing import closes the connection while the client still writes
		t.Logf("import: %v", err)
		return taskDone(t, s, task)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("task-id") != task {
		t.Fatalf("import: HTTP %d task-id %q", resp.StatusCode, resp.Header.Get("task-id"))
	}
	return taskDone(t, s, task)
}

func importedVM(t *testing.T, rec map[string]any) string {
	t.Helper()
	if rec["status"] != "success" {
		t.Fatalf("import task %v", rec)
	}
	v, err := xmlrpc.Unmarshal([]byte(rec["result"].(string)))
	refs, _ := xmlrpc.AsStrings(v)
	if err != nil || len(refs) != 1 {
		t.Fatalf("import result %q: %v", rec["result"], err)
	}
	return refs[0]
}

func TestExportImportRoundTrip(t *testing.T) {
	s, url := newSim(t, xapisim.Options{DisksPerVM: 2, DiskSize: 5<<20 + 4096})
	sess := login(t, s, url)
	src := vmByName(t, s, "vm-01")
	snap := must(t, url, "VM.snapshot", sess, src.Ref, "rt").(string)
	for _, tc := range []struct{ query, codec string }{{"", "none"}, {"&use_compression=true", "gzip"}, {"&use_compression=zstd", "zstd"}} {
		t.Run(tc.codec, func(t *testing.T) {
			resp, body := export(t, url, sess, snap, tc.query)
			if resp.StatusCode != 200 || resp.Proto != "HTTP/1.0" || resp.ContentLength != -1 ||
				resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("Content-Encoding") != "" {
				t.Fatalf("export head: %s %d %v", resp.Proto, resp.StatusCode, resp.Header)
			}
			if got := compress.Detect(body); string(got) != tc.codec {
				t.Fatalf("export body is %s, want %s", got, tc.codec)
			}
			if task := taskDone(t, s, resp.Header.Get("task-id")); task["status"] != "success" || task["result"] != "" {
				t.Fatalf("export task %v", task)
			}
			vm := importedVM(t, importXVA(t, s, url, sess, body))
			got, _ := s.VM(vm)
			if got.PowerState != "Halted" || !got.IsTemplate || len(got.VDIs) != 2 {
				t.Fatalf("imported VM %+v", got)
			}
			rec, _ := s.Record("VM", vm)
			if _, marked := rec["other_config"].(map[string]string)["import_task"]; marked {
				t.Errorf("import_task left in other_config")
			}
			for i := range got.VDIs {
				if !bytes.Equal(vdiBytes(t, s, got.VDIs[i]), vdiBytes(t, s, src.VDIs[i])) {
					t.Fatalf("disk %d differs after the round trip", i)
				}
			}
		})
	}
	r := s.Requests()
	if r["/export/"] != 3 || r["/import/"] != 3 {
		t.Fatalf("request counts %v", r)
	}
}

func TestExportRules(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	running := vmByName(t, s, "vm-01")
	resp, _ := export(t, url, sess, running.Ref, "")
	task := taskDone(t, s, resp.Header.Get("task-id"))
	if resp.StatusCode != 500 || sprint(task["error_info"]) != "[VM_BAD_POWER_STATE "+running.Ref+" halted, suspended running]" {
		t.Fatalf("export of a running VM: HTTP %d, task %v", resp.StatusCode, task)
	}
	resp, _ = export(t, url, "OpaqueRef:bogus", running.Ref, "")
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("bad session: HTTP %d", resp.StatusCode)
	}
	halted := vmByName(t, s, "vm-02")
	user, pass := s.Credentials()
	req, _ := http.NewRequest(http.MethodGet, url+"/export?uuid="+halted.UUID, nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	xr, err := xva.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(xr.Disks()) != 1 || xr.Header().Objects[0].Snapshot["name_label"] != "vm-02" {
		t.Fatalf("basic-auth export by uuid: %+v", xr.Disks())
	}
	resp.Body.Close()
}

func TestRawVDIExport(t *testing.T) {
	s, url := newSim(t, xapisim.Options{DiskSize: 3<<20 + 512})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")
	resp, err := http.Get(url + "/export_raw_vdi/?format=raw&session_id=" + sess + "&vdi=" + vm.VDIs[0])
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, vdiBytes(t, s, vm.VDIs[0])) || int64(len(got)) != 3<<20+512 {
		t.Fatalf("raw export: HTTP %d, %d bytes", resp.StatusCode, len(got))
	}
	for _, f := range []string{"qcow2", "x"} {
		resp, err = http.Get(url + "/export_raw_vdi/?format=" + f + "&session_id=" + sess + "&vdi=" + vm.VDIs[0])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("format=%s: HTTP %d, want 404", f, resp.StatusCode)
		}
	}
}

// TestRawVDIExportVHD: format=vhd is a dynamic VHD that the reader expands
// to the raw bytes, leaving out the all-zero 2 MiB blocks, and counted in
// /sim/stats as the bytes sent.
func TestRawVDIExportVHD(t *testing.T) {
	const size = 40<<20 + 4096
	s, url := newSim(t, xapisim.Options{DiskSize: size})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")
	raw := vdiBytes(t, s, vm.VDIs[0])
	before := s.Stats().Bytes["export_raw_vdi"]
	resp, err := http.Get(url + "/export_raw_vdi?format=vhd&session_id=" + sess + "&vdi=" + vm.VDIs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vhd" {
		t.Fatalf("format=vhd: HTTP %d, content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cr := &countingReader{r: resp.Body}
	vr, err := vhd.NewReader(cr, size)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, size)
	blocks := 0
	for {
		b, err := vr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		copy(got[b.Offset:], b.Data)
		blocks++
	}
	if !bytes.Equal(got, raw) {
		t.Fatal("the VHD expanded differs from the raw disk")
	}
	want, _ := vhd.NonZeroBlocks(bytes.NewReader(raw), size)
	if blocks != len(want) || blocks >= size/vhd.DefaultBlockSize {
		t.Fatalf("%d blocks allocated, want %d of %d (the zero ones left out)", blocks, len(want), (size+vhd.DefaultBlockSize-1)/vhd.DefaultBlockSize)
	}
	if n := s.Stats().Bytes["export_raw_vdi"] - before; n != cr.n || n >= size {
		t.Fatalf("stats count %d bytes, the client read %d, the disk is %d", n, cr.n, size)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// rawPut sends a hand-written PUT and returns the response head and the connection.
func rawPut(t *testing.T, url, path string, headers string, body []byte) (string, net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\n%s\r\n", path, headers)
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading response head: %v (so far %q)", err, head.String())
		}
		head.WriteString(line)
		if line == "\r\n" {
			return head.String(), conn
		}
	}
}

func TestImportEdges(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")
	_, xvaBody := export(t, url, sess, vm.Ref, "")
	before := len(s.VMs())

	head, _ := rawPut(t, url, "/import/?session_id="+sess, "Content-Length: 0\r\n", nil)
	if !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") || !strings.Contains(head, "task-id:OpaqueRef:") {
		t.Fatalf("probe PUT head %q", head)
	}

	task := must(t, url, "task.create", sess, "chunked", "").(string)
	head, _ = rawPut(t, url, "/import/?session_id="+sess+"&task_id="+task, "Transfer-Encoding: chunked\r\n", []byte("0\r\n\r\n"))
	if !strings.HasPrefix(head, "HTTP/1.1 403") || sprint(taskDone(t, s, task)["error_info"]) != "[IMPORT_ERROR_CANNOT_HANDLE_CHUNKED]" {
		t.Fatalf("chunked import: %q %v", head, taskDone(t, s, task))
	}

	// A client announcing 1 PiB and closing after the last byte (npm xen-api).
	task = must(t, url, "task.create", sess, "cut", "").(string)
	head, conn := rawPut(t, url, "/import/?session_id="+sess+"&task_id="+task, "Content-Length: 1125899906842624\r\n", xvaBody)
	conn.Close()
	cut := importedVM(t, taskDone(t, s, task))
	if got, _ := s.VM(cut); !bytes.Equal(vdiBytes(t, s, got.VDIs[0]), vdiBytes(t, s, vm.VDIs[0])) {
		t.Fatalf("cut-connection import: disk differs (head %q)", head)
	}

	// A truncated stream fails and leaves no half VM behind.
	rec := importXVA(t, s, url, sess, xvaBody[:len(xvaBody)/2])
	if rec["status"] != "failure" || len(s.VMs()) != before+1 {
		t.Fatalf("truncated import: task %v, %d VMs (want %d)", rec, len(s.VMs()), before+1)
	}
	s.SetFaults(xapisim.Faults{SRFull: true})
	rec = importXVA(t, s, url, sess, xvaBody)
	if errInfo, _ := rec["error_info"].([]string); len(errInfo) != 3 || errInfo[0] != "SR_FULL" || len(s.VMs()) != before+1 {
		t.Fatalf("import into a full SR: %v, %d VMs", rec["error_info"], len(s.VMs()))
	}
	mustFail(t, url, "SR_FULL", "VM.snapshot", sess, vm.Ref, "no room")
}

func TestSRSizeRefusesImport(t *testing.T) {
	s, url := newSim(t, xapisim.Options{VMs: 1, DiskSize: 8 << 20, SRSize: 12 << 20})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-01")
	desc := mustFail(t, url, "SR_FULL", "VM.snapshot", sess, vm.Ref, "too big")
	if desc[1] != fmt.Sprint(8<<20) || desc[2] != fmt.Sprint(4<<20) {
		t.Fatalf("SR_FULL params %v, want [requested, free]", desc)
	}
}

func TestTransferFaults(t *testing.T) {
	s, url := newSim(t, xapisim.Options{DiskSize: 8 << 20})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")

	s.SetFaults(xapisim.Faults{DropAfter: 100000})
	resp, body := export(t, url, sess, vm.Ref, "&drop=expected")
	if task := taskDone(t, s, resp.Header.Get("task-id")); len(body) > 100000 || task["status"] != "failure" {
		t.Fatalf("drop-after: got %d bytes, task %v", len(body), task["status"])
	}

	s.SetFaults(xapisim.Faults{RateLimit: 256 << 10})
	task := must(t, url, "task.create", sess, "slow", "").(string)
	r, err := http.Get(url + "/export?session_id=" + sess + "&task_id=" + task + "&ref=" + vm.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	must(t, url, "task.cancel", sess, task)
	n, _ := io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if rec := taskDone(t, s, task); rec["status"] != "cancelled" || n > 4<<20 {
		t.Fatalf("rate-limited export cancelled: task %v after %d more bytes", rec["status"], n)
	}

	s.SetFaults(xapisim.Faults{FirstByteDelay: time.Hour})
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := client.Get(url + "/export?session_id=" + sess + "&ref=" + vm.Ref); err == nil {
		t.Fatalf("first-byte delay: the response head arrived")
	}

	s.SetFaults(xapisim.Faults{RefuseLogins: true})
	user, pass := s.Credentials()
	mustFail(t, url, "SESSION_AUTHENTICATION_FAILED", "session.login_with_password", user, pass)
	s.SetFaults(xapisim.Faults{})
	login(t, s, url)
}

func TestTwoPoolsAreIndependent(t *testing.T) {
	a, urlA := newSim(t, xapisim.Options{PoolName: "a"})
	b, urlB := newSim(t, xapisim.Options{PoolName: "b"})
	sa, sb := login(t, a, urlA), login(t, b, urlB)
	ua := must(t, urlA, "pool.get_uuid", sa, a.PoolRef())
	ub := must(t, urlB, "pool.get_uuid", sb, b.PoolRef())
	if ua == ub || urlA == urlB {
		t.Fatalf("pools share uuid %v or URL", ua)
	}
	mustFail(t, urlB, "SESSION_INVALID", "pool.get_all", sa)
}
