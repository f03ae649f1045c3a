package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"xbr/functions/gateway"
	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/remote/dir"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

const chromiumPath = "/usr/bin/chromium"

// TestRestoreViewInChromium walks the Restore view in headless Chromium,
// with the keyboard where it matters, from the remote to a completed restore
// done by the real restore function of `xbr serve`, then checks the restored
// VM on the pool and that the page fits a phone screen. Screenshots are left
// in tests/artifacts/.
func TestRestoreViewInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		testsupport.Missing(t, "%s is missing (scripts/tool-chromium.sh installs it): %v", chromiumPath, err)
	}
	sim, simURL := gwStartPool(t)
	vm := gwHaltedVM(t, sim)
	remoteDir := t.TempDir()
	backup := gwMakeBackup(t, sim, simURL, remoteDir, vm, time.Date(2024, 5, 1, 2, 0, 13, 0, time.UTC))
	cfg := gwWriteConfig(t, simURL, remoteDir)
	s := startServe(t, nil, "--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	line, ok := s.waitLog(t, "gateway listening", 30*time.Second)
	if !ok {
		t.Fatalf("no 'gateway listening' line:\n%s", s.output())
	}
	base, _ := line["url"].(string)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("gateway url %q", base)
	}

	ctx := gwBrowser(t)
	const newName = "restored-by-chromium"
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			gwScreenshot(t, ctx, "gateway-failed.png")
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, s.output())
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}

	step("open the Restore view", chromedp.EmulateViewport(1100, 900), chromedp.Navigate(base+"/restore"),
		chromedp.WaitVisible(chromedp.ID("snapshots-note")))
	// The first Tab reaches the skip link: the page is usable from the keyboard.
	step("press Tab", chromedp.KeyEvent(kb.Tab))
	if got := eval(`document.activeElement.className`); got != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	// Step 1, the remote: focused and followed with Enter.
	step("choose the remote", chromedp.Focus(chromedp.CSS(`a[href="/restore?remote=nfs"]`)), chromedp.KeyEvent(kb.Enter))
	// Step 2, the VM.
	vmLink := chromedp.CSS(`a[href*="vm=` + vm.UUID + `"]`)
	step("choose the VM", chromedp.WaitVisible(vmLink), chromedp.Click(vmLink))
	// Step 3, the backup.
	backupLink := chromedp.CSS(`a.button[href*="20240501T020013Z"]`)
	step("choose the backup", chromedp.WaitVisible(backupLink), chromedp.Click(backupLink))
	// Step 4, pool (the only one) and SR: a name typed, Enter submits the form.
	step("fill the form", chromedp.WaitVisible(chromedp.ID("sr")), chromedp.SendKeys(chromedp.ID("name"), newName))
	gwScreenshot(t, ctx, "gateway-restore-form.png")
	step("submit with Enter", chromedp.KeyEvent(kb.Enter))
	// The status page follows the restore until it completes.
	step("wait for the restore", chromedp.WaitVisible(chromedp.CSS(`#state.state-completed`)))
	if got := text(`#state`); got != "completed" {
		t.Fatalf("the page shows %q, want completed", got)
	}
	newVM := text(`#restored-vm`)
	gwScreenshot(t, ctx, "gateway-restore-completed.png")

	restored := gwVMNamed(sim, newName)
	if restored == nil || !strings.Contains(newVM, restored.UUID) || !strings.Contains(newVM, newName) {
		t.Fatalf("no VM %q on the pool matching the page's %q after the restore of %s", newName, newVM, backup)
	}

	// A phone-sized screen: nothing is wider than the viewport.
	step("open the backups on a phone", chromedp.EmulateViewport(375, 740),
		chromedp.Navigate(base+"/restore?remote=nfs&vm="+vm.UUID), chromedp.WaitVisible(chromedp.CSS(`a.button`)))
	if w, inner := eval(`String(document.documentElement.scrollWidth)`), eval(`String(window.innerWidth)`); w != inner {
		t.Errorf("on a 375px screen the page is %spx wide (viewport %spx)", w, inner)
	}
	gwScreenshot(t, ctx, "gateway-backups-narrow.png")
	step("open the home page on a phone", chromedp.Navigate(base+"/restore"), chromedp.WaitVisible(chromedp.ID("recent")))
	if home := text(`main`); !strings.Contains(home, "completed") {
		t.Errorf("the recent restores do not show the completed restore:\n%s", home)
	}
	gwScreenshot(t, ctx, "gateway-home-narrow.png")
}

// gwScreenshot saves a full-page PNG of the tab as a test artifact.
func gwScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	gwSaveArtifact(t, name, png)
}

// TestRestoreThroughWebhookAndSlack restores a backup through `xbr serve`
// from the signed webhook and from a Slack command; each restored VM's disks
// read back through /export_raw_vdi equal the source's. Unsigned requests to
// the real process get 401.
func TestRestoreThroughWebhookAndSlack(t *testing.T) {
	sim, simURL := gwStartPool(t)
	vm := gwHaltedVM(t, sim)
	remoteDir := t.TempDir()
	backup := gwMakeBackup(t, sim, simURL, remoteDir, vm, time.Date(2024, 5, 1, 2, 0, 13, 0, time.UTC))
	posted := make(chan string, 4) // stands in for Slack's response_url
	chat := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posted <- string(b)
	}))
	defer chat.Close()
	cfg := gwConfig(simURL, remoteDir) + "gateway:\n  webhook_secret: ${XBR_TEST_HOOK}\n  slack_signing_secret: ${XBR_TEST_SLACK}\n" +
		"  chat_response_hosts: [" + strings.TrimPrefix(chat.URL, "http://") + "]\n"
	cfgPath := filepath.Join(t.TempDir(), "xbr.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const hook, slack = "e2e-webhook-secret", "e2e-slack-secret"
	s := startServe(t, []string{"XBR_TEST_HOOK=" + hook, "XBR_TEST_SLACK=" + slack}, "--config", cfgPath,
		"--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	line, ok := s.waitLog(t, "gateway listening", 30*time.Second)
	if !ok || line["webhook"] != true || line["slack"] != true {
		t.Fatalf("gateway line %v:\n%s", line, s.output())
	}
	base := line["url"].(string)
	want := gwRawDigests(t, sim, simURL, vm.Ref)

	body := fmt.Sprintf(`{"backup_id": %q, "name": "from-webhook"}`, backup)
	if code, out := gwPost(t, base+"/v1/restores", nil, body); code != http.StatusUnauthorized {
		t.Fatalf("unsigned webhook: %d %s", code, out)
	}
	now := time.Now()
	code, out := gwPost(t, base+"/v1/restores", http.Header{
		gateway.HeaderTimestamp: {fmt.Sprint(now.Unix())},
		gateway.HeaderSignature: {gateway.SignWebhook(hook, now, "POST", "/v1/restores", []byte(body))},
	}, body)
	var accepted struct{ ID string }
	if code != http.StatusAccepted || json.Unmarshal([]byte(out), &accepted) != nil || accepted.ID == "" {
		t.Fatalf("webhook: %d %s", code, out)
	}
	gwWaitCompleted(t, base, hook, accepted.ID)

	form := url.Values{"text": {"restore " + vm.NameLabel + " latest"}, "user_name": {"carol"},
		"response_url": {chat.URL + "/commands/T1/B2/tok3n"}}.Encode()
	now = time.Now()
	if code, out := gwPost(t, base+"/v1/chat/slack", http.Header{gateway.HeaderSlackTimestamp: {fmt.Sprint(now.Unix())},
		gateway.HeaderSlackSignature: {"v0=" + strings.Repeat("0", 64)}}, form); code != http.StatusUnauthorized {
		t.Fatalf("badly signed Slack command: %d %s", code, out)
	}
	code, out = gwPost(t, base+"/v1/chat/slack", http.Header{gateway.HeaderSlackTimestamp: {fmt.Sprint(now.Unix())},
		gateway.HeaderSlackSignature: {gateway.SignSlack(slack, now, []byte(form))}}, form)
	m := regexp.MustCompile("Restore `([0-9a-f]+)` requested").FindStringSubmatch(out)
	if code != http.StatusOK || m == nil {
		t.Fatalf("Slack command: %d %s", code, out)
	}
	gwWaitCompleted(t, base, hook, m[1])
	restoredName := vm.NameLabel + " (" + backup.Timestamp() + ")"
	gwChatOutcome(t, posted, "Restore `"+m[1]+"`: *completed*", `New VM "`+restoredName+`"`)
	gwSlackRestoresAgain(t, base, slack, form, posted, restoredName)

	if out := s.output(); strings.Contains(out, hook) || strings.Contains(out, slack) {
		t.Errorf("a secret reached the log:\n%s", out)
	}
	for _, name := range []string{"from-webhook", vm.NameLabel + " (" + backup.Timestamp() + ")"} {
		var got *xapisim.VMInfo
		for _, v := range sim.VMs() {
			if strings.HasPrefix(v.NameLabel, name) && v.Ref != vm.Ref {
				got = &v
			}
		}
		if got == nil {
			t.Fatalf("no restored VM named %q on the pool", name)
		}
		if d := gwRawDigests(t, sim, simURL, got.Ref); !slices.Equal(d, want) {
			t.Errorf("restored %q disks %v, source %v", got.NameLabel, d, want)
		}
	}
}

// gwChatOutcome waits for the outcome the gateway posts to the chat's
// response_url and checks it says every one of want.
func gwChatOutcome(t *testing.T, posted <-chan string, want ...string) {
	t.Helper()
	select {
	case body := <-posted:
		var reply gateway.ChatReply
		if err := json.Unmarshal([]byte(body), &reply); err != nil || reply.ResponseType != "in_channel" {
			t.Fatalf("posted to the chat: %s (%v)", body, err)
		}
		for _, w := range want {
			if !strings.Contains(reply.Text, w) {
				t.Errorf("posted outcome %q lacks %q", reply.Text, w)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no outcome was posted to the chat's response_url")
	}
}

// gwSlackRestoresAgain: the same restore from chat again is warned that the
// name is taken, and the real restore names the VM "<name> (2)" and says so.
func gwSlackRestoresAgain(t *testing.T, base, secret, form string, posted <-chan string, name string) {
	t.Helper()
	form = strings.Replace(form, "+latest", "", 1) // another command: a signed one is accepted once
	now := time.Now()
	code, out := gwPost(t, base+"/v1/chat/slack", http.Header{gateway.HeaderSlackTimestamp: {fmt.Sprint(now.Unix())},
		gateway.HeaderSlackSignature: {gateway.SignSlack(secret, now, []byte(form))}}, form)
	m := regexp.MustCompile("Restore `([0-9a-f]+)` requested").FindStringSubmatch(out)
	if code != http.StatusOK || m == nil || !strings.Contains(out, `the new VM is named \"`+name+` (2)\"`) {
		t.Fatalf("second Slack restore: %d %s", code, out)
	}
	gwChatOutcome(t, posted, "Restore `"+m[1]+"`: *completed*", `New VM "`+name+` (2)"`)
}

func gwPost(t *testing.T, u string, h http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// gwWaitCompleted polls the signed status API until restore id ends; it must complete.
func gwWaitCompleted(t *testing.T, base, secret, id string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		now := time.Now()
		req, _ := http.NewRequest("GET", base+"/v1/restores/"+id, nil)
		req.Header.Set(gateway.HeaderTimestamp, fmt.Sprint(now.Unix()))
		req.Header.Set(gateway.HeaderSignature, gateway.SignWebhook(secret, now, "GET", "/v1/restores/"+id, nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Status, Error string
		}
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		switch {
		case st.Status == "completed":
			return
		case st.Status == "failed":
			t.Fatalf("restore %s failed: %s", id, st.Error)
		case time.Now().After(deadline):
			t.Fatalf("restore %s still %q after a minute (HTTP %d)", id, st.Status, resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gwRawDigests digests each disk of a VM through /export_raw_vdi.
func gwRawDigests(t *testing.T, sim *xapisim.Server, simURL, vmRef string) []string {
	t.Helper()
	ctx := context.Background()
	info, err := sim.VM(vmRef)
	if err != nil {
		t.Fatal(err)
	}
	c, err := xapi.New(simURL)
	if err != nil {
		t.Fatal(err)
	}
	user, pass := sim.Credentials()
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	defer c.Logout(ctx)
	var out []string
	for _, vdi := range info.VDIs {
		tr, err := c.ExportRawVDI(ctx, xapi.VDIRef(vdi))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, tr)
		if cerr := tr.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, hex.EncodeToString(h.Sum(nil)))
	}
	if len(out) == 0 {
		t.Fatalf("VM %s has no disk", vmRef)
	}
	return out
}

func gwStartPool(t *testing.T) (*xapisim.Server, string) {
	t.Helper()
	sim, err := xapisim.New(xapisim.Options{VMs: 2, DiskSize: 2 << 20, DataDir: t.TempDir(), PoolName: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return sim, url
}

func gwHaltedVM(t *testing.T, sim *xapisim.Server) xapisim.VMInfo {
	t.Helper()
	for _, vm := range sim.VMs() {
		if vm.PowerState == "Halted" && !vm.IsSnapshot && !vm.IsTemplate {
			return vm
		}
	}
	t.Fatal("no halted VM on the simulator")
	return xapisim.VMInfo{}
}

func gwVMNamed(sim *xapisim.Server, name string) *xapisim.VMInfo {
	for _, vm := range sim.VMs() {
		if vm.NameLabel == name {
			return &vm
		}
	}
	return nil
}

// gwMakeBackup exports vm from the pool, gzips it and commits it on a
// directory remote in XO's layout, metadata last, as the export function does.
func gwMakeBackup(t *testing.T, sim *xapisim.Server, url, root string, vm xapisim.VMInfo, at time.Time) catalog.ID {
	t.Helper()
	ctx := context.Background()
	c, err := xapi.New(url)
	if err != nil {
		t.Fatal(err)
	}
	user, pass := sim.Credentials()
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	defer c.Logout(ctx)
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	id, err := catalog.NewID("nfs", vm.UUID, at)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.Export(ctx, xapi.VMRef(vm.Ref), xapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	size, sum := gwCommit(t, d, id.DataKey(), func(w io.Writer) error {
		zw, err := compress.NewWriter(w, compress.Gzip, compress.WriterOptions{})
		if err != nil {
			return err
		}
		if _, err := io.Copy(zw, tr); err != nil {
			return err
		}
		return zw.Close()
	})
	meta := catalog.Metadata{JobID: "job-e2e", Mode: catalog.ModeFull, ScheduleID: "schedule-e2e",
		Timestamp: at.UnixMilli(), Version: catalog.MetadataVersion,
		VM:         json.RawMessage(fmt.Sprintf(`{"uuid":%q,"name_label":%q}`, vm.UUID, vm.NameLabel)),
		VMSnapshot: json.RawMessage(`{"uuid":"00000000-0000-4000-8000-0000000000e2"}`),
		XVA:        "./" + id.Timestamp() + catalog.DataSuffix, Size: size,
		Xbr: &catalog.Xbr{Version: "e2e", SHA256: sum, Codec: catalog.CodecGzip, RunID: "run-e2e",
			Pool: "lab", Job: "nightly", Schedule: "daily"}}
	data, err := meta.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	gwCommit(t, d, id.MetaKey(), func(w io.Writer) error { _, err := w.Write(data); return err })
	return id
}

// gwCommit writes key through fill and commits it; it returns the size and SHA-256.
func gwCommit(t *testing.T, d *dir.Dir, key string, fill func(io.Writer) error) (int64, string) {
	t.Helper()
	ctx := context.Background()
	up, err := d.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	cw := &gwCounter{w: io.MultiWriter(up, h)}
	if err := fill(cw); err != nil {
		_ = up.Abort(ctx)
		t.Fatal(err)
	}
	if err := up.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return cw.n, hex.EncodeToString(h.Sum(nil))
}

type gwCounter struct {
	w io.Writer
	n int64
}

func (c *gwCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func gwWriteConfig(t *testing.T, simURL, remoteDir string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "xbr.yaml")
	if err := os.WriteFile(p, []byte(gwConfig(simURL, remoteDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gwConfig(simURL, remoteDir string) string {
	return fmt.Sprintf(`pools: [{name: lab, url: %q, username: root, password: xapisim}]
remotes: [{name: nfs, type: dir, path: %q}]
jobs:
  - name: nightly
    pools: [lab]
    remotes: [nfs]
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
`, simURL, remoteDir)
}

// gwBrowser starts headless Chromium with a fresh profile; it is stopped
// when the test ends.
func gwBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	return ctx
}

// gwSaveArtifact keeps a screenshot under <repo>/tests/artifacts/ (git-ignored).
func gwSaveArtifact(t *testing.T, name string, data []byte) {
	t.Helper()
	if len(data) == 0 {
		return
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	dirPath := filepath.Join(root, "tests", "artifacts")
	if err := os.MkdirAll(dirPath, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dirPath, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}
