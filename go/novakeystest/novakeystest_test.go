package novakeystest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// token logs in with o (as gophercloud does: password, project scope by name in the domain).
func token(t *testing.T, o AuthOptions) string {
	t.Helper()
	body := map[string]interface{}{"auth": map[string]interface{}{
		"identity": map[string]interface{}{"methods": []string{"password"}, "password": map[string]interface{}{
			"user": map[string]interface{}{"name": o.Username, "password": o.Password, "domain": map[string]string{"name": o.DomainName}}}},
		"scope": map[string]interface{}{"project": map[string]interface{}{"name": o.TenantName, "domain": map[string]string{"name": o.DomainName}}},
	}}
	b, _ := json.Marshal(body)
	resp, err := http.Post(o.IdentityEndpoint+"/auth/tokens", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("X-Subject-Token") == "" {
		t.Fatalf("login %s at %s: HTTP %d", o.Username, o.IdentityEndpoint, resp.StatusCode)
	}
	var doc struct {
		Token struct {
			Project struct{ Name string } `json:"project"`
			User    struct{ Name string } `json:"user"`
		} `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Token.User.Name != o.Username || doc.Token.Project.Name != o.TenantName {
		t.Fatalf("token of %q in %q, want %q in %q", doc.Token.User.Name, doc.Token.Project.Name, o.Username, o.TenantName)
	}
	return resp.Header.Get("X-Subject-Token")
}

// compute calls the Nova API with a token; returns the status.
func compute(t *testing.T, srv *Server, tok, method, path string, body interface{}) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, srv.ComputeURL+"/v2.1"+path, rd)
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestStartServesEveryFront(t *testing.T) {
	srv := Start(t)
	for _, f := range Fronts {
		u := srv.URLs[f]
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Fatalf("%s URL %q", f, u)
		}
		// Every listener answers /healthcheck.
		resp, err := http.Get(u + "/healthcheck")
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s /healthcheck: HTTP %d", f, resp.StatusCode)
		}
	}
	named := map[string]string{"compute": srv.ComputeURL, "identity": srv.IdentityURL, "alibaba": srv.AlibabaURL,
		"tencent": srv.TencentURL, "twcc": srv.TWCCURL, "console": srv.ConsoleURL}
	for f, u := range named {
		if u != srv.URLs[f] {
			t.Fatalf("%s: field %q, URLs %q", f, u, srv.URLs[f])
		}
	}
	if srv.AuthURL != srv.IdentityURL+"/v3" || srv.Region != "RegionOne" {
		t.Fatalf("AuthURL %q, Region %q", srv.AuthURL, srv.Region)
	}
	// Every fixture user's options log in, scoped to its project.
	for _, u := range []string{"admin", "demo", "reader"} {
		o := srv.AuthOptions(u)
		if o.IdentityEndpoint != srv.AuthURL || o.ProjectName != o.TenantName || o.Region != "RegionOne" {
			t.Fatalf("%s: %+v", u, o)
		}
		token(t, o)
	}
	// The console answers with a page.
	resp, err := http.Get(srv.ConsoleURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Fatalf("console: HTTP %d", resp.StatusCode)
	}
}

func TestControls(t *testing.T) {
	srv := Start(t)
	tok := token(t, srv.AuthOptions("demo"))
	if c := compute(t, srv, tok, "POST", "/os-keypairs", map[string]interface{}{"keypair": map[string]string{"name": "kept"}}); c != 200 && c != 201 {
		t.Fatalf("create kept: HTTP %d", c)
	}
	srv.Snapshot(t, "one")
	if c := compute(t, srv, tok, "POST", "/os-keypairs", map[string]interface{}{"keypair": map[string]string{"name": "later"}}); c != 200 && c != 201 {
		t.Fatalf("create later: HTTP %d", c)
	}
	if n := len(srv.Journal(t)); n < 2 {
		t.Fatalf("journal has %d entries, want the two creates", n)
	}

	// Reset: the key pairs are gone (and so is the token).
	srv.Reset(t)
	tok = token(t, srv.AuthOptions("demo"))
	for _, name := range []string{"kept", "later"} {
		if c := compute(t, srv, tok, "GET", "/os-keypairs/"+name, nil); c != 404 {
			t.Fatalf("after reset, GET %s: HTTP %d, want 404", name, c)
		}
	}

	// Restore: back to the snapshot.
	srv.Restore(t, "one")
	tok = token(t, srv.AuthOptions("demo"))
	if c := compute(t, srv, tok, "GET", "/os-keypairs/kept", nil); c != 200 {
		t.Fatalf("after restore, GET kept: HTTP %d, want 200", c)
	}
	if c := compute(t, srv, tok, "GET", "/os-keypairs/later", nil); c != 404 {
		t.Fatalf("after restore, GET later: HTTP %d, want 404", c)
	}
	srv.DeleteSnapshot(t, "one")

	// Faults.
	id := srv.AddFault(t, map[string]interface{}{
		"match": map[string]string{"method": "GET", "path": "/v2.1/os-keypairs*"}, "action": map[string]int{"status": 503}})
	if c := compute(t, srv, tok, "GET", "/os-keypairs", nil); c != 503 {
		t.Fatalf("with fault %s: HTTP %d, want 503", id, c)
	}
	srv.DeleteFault(t, id)
	if c := compute(t, srv, tok, "GET", "/os-keypairs", nil); c != 200 {
		t.Fatalf("fault removed: HTTP %d, want 200", c)
	}
	srv.AddFault(t, map[string]interface{}{"action": map[string]int{"status": 500}})
	srv.ClearFaults(t)
	if c := compute(t, srv, tok, "GET", "/os-keypairs", nil); c != 200 {
		t.Fatalf("faults cleared: HTTP %d, want 200", c)
	}

	// Clock.
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if c := srv.SetClock(t, at); !c.Frozen || !c.Now.Equal(at) {
		t.Fatalf("SetClock: %+v", c)
	}
	if c := srv.AdvanceClock(t, 90*time.Second); !c.Now.Equal(at.Add(90 * time.Second)) {
		t.Fatalf("AdvanceClock: %+v", c)
	}
	if c := srv.RunClock(t); c.Frozen {
		t.Fatalf("RunClock: %+v", c)
	}
	if c := srv.Clock(t); c.Frozen {
		t.Fatalf("Clock: %+v", c)
	}

	// A control the helper has no method for: its error names the call.
	status, body, err := srv.Control("GET", "/_novakeys/nonesuch", nil)
	if err != nil || status != 404 || !strings.Contains(string(body), "no such novakeys control") {
		t.Fatalf("Control: %d %s %v", status, body, err)
	}
}

func TestOptions(t *testing.T) {
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := StartWith(t, Options{Seed: 42, Clock: at, Region: "RegionTwo", Args: []string{"--twcc-bind", "off"}})
	c := srv.Clock(t)
	if !c.Frozen || !c.Now.Equal(at) || c.Seed == nil || *c.Seed != 42 {
		t.Fatalf("clock %+v", c)
	}
	if _, on := srv.URLs["twcc"]; on || srv.TWCCURL != "" || srv.AlibabaURL == "" {
		t.Fatalf("URLs %v", srv.URLs)
	}
	if srv.Region != "RegionTwo" || srv.AuthOptions("admin").Region != "RegionTwo" {
		t.Fatalf("region %q", srv.Region)
	}
	token(t, srv.AuthOptions("admin"))
}

// The server is gone, its port closed and the process reaped once the test that started it
// has ended.
func TestCleanupStopsTheServer(t *testing.T) {
	var srv *Server
	t.Run("inner", func(t *testing.T) {
		srv = Start(t)
		if srv.Exited() {
			t.Fatal("exited at once")
		}
	})
	if !srv.Exited() {
		t.Fatal("still running after the sub-test's cleanup")
	}
	for _, u := range srv.URLs {
		p, _ := url.Parse(u)
		if conn, err := net.DialTimeout("tcp", p.Host, time.Second); err == nil {
			conn.Close()
			t.Fatalf("%s still accepts connections", p.Host)
		}
	}
	// Reaped: no such process (a zombie would still take signal 0).
	if err := syscall.Kill(srv.Pid(), 0); err == nil {
		t.Fatalf("process %d still exists", srv.Pid())
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestMissingBinaryNamesBothPlaces(t *testing.T) {
	t.Setenv("NOVAKEYS_BIN", "")
	t.Setenv("PATH", t.TempDir())
	_, err := Launch(Options{})
	if err == nil || !strings.Contains(err.Error(), "NOVAKEYS_BIN") || !strings.Contains(err.Error(), "PATH") {
		t.Fatalf("error %v", err)
	}
}

func fakeBinary(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "novakeys")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartFailuresReportTheOutput(t *testing.T) {
	bin := fakeBinary(t, `echo "novakeys: compute listening on http://127.0.0.1:1"; echo "cannot open the store" >&2; exit 3`)
	_, err := Launch(Options{Bin: bin})
	if err == nil || !strings.Contains(err.Error(), "exited before it listened") || !strings.Contains(err.Error(), "cannot open the store") {
		t.Fatalf("early exit: %v", err)
	}

	pidFile := filepath.Join(t.TempDir(), "pid")
	bin = fakeBinary(t, fmt.Sprintf(`echo $$ > %s; echo "still starting" >&2; exec sleep 60`, pidFile))
	start := time.Now()
	_, err = Launch(Options{Bin: bin, StartTimeout: 500 * time.Millisecond, StopTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "within 500ms") || !strings.Contains(err.Error(), "still starting") {
		t.Fatalf("timeout: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("gave up after %v", took)
	}
	pid := 0
	if data, err := os.ReadFile(pidFile); err == nil {
		fmt.Sscan(string(data), &pid)
	}
	if pid == 0 || syscall.Kill(pid, 0) == nil {
		t.Fatalf("the slow server (pid %d) was not stopped", pid)
	}
}
