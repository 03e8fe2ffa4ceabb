package novakeystest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Fronts are the listeners Start opens, in the order novakeys prints them.
var Fronts = []string{"compute", "identity", "alibaba", "tencent", "twcc", "console"}

// Options change how the server is started. The zero value is the default: every front on
// 127.0.0.1:0, --db :memory:, the built-in fixtures, a running clock and random ids.
type Options struct {
	// Bin is the novakeys binary. Empty: $NOVAKEYS_BIN, else novakeys on $PATH.
	Bin string
	// Seed, when not 0, is passed as --seed (deterministic ids and keys). For seed 0 pass
	// Args: []string{"--seed", "0"}.
	Seed uint64
	// Clock, when not zero, freezes the server's clock there (--clock).
	Clock time.Time
	// Region, when not empty, is the catalog's region (--region). Default RegionOne.
	Region string
	// Args are extra `novakeys serve` flags. A --<front>-bind, --db or --region given here
	// replaces the helper's own (`--<front>-bind off` turns a front off); do not repeat
	// Seed, Clock or Region here (novakeys takes each flag once).
	Args []string
	// Env are extra environment entries (KEY=VALUE) for the server. The server never sees
	// the caller's NOVAKEYS_* variables; RUST_LOG defaults to warn.
	Env []string
	// StartTimeout bounds the wait for the listening lines. Default 30s.
	StartTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before it kills. Default 10s.
	StopTimeout time.Duration
}

// User is one identity user of the fixtures.
type User struct {
	Name, Password, Domain, Project string
}

// DefaultUsers are the users of novakeys' built-in fixtures (fixtures/default.yaml): admin
// (admin of project admin and of the domain), demo (member of project demo) and reader
// (reader of project demo), each with its name as password, all in domain Default.
var DefaultUsers = map[string]User{
	"admin":  {Name: "admin", Password: "admin", Domain: "Default", Project: "admin"},
	"demo":   {Name: "demo", Password: "demo", Domain: "Default", Project: "demo"},
	"reader": {Name: "reader", Password: "reader", Domain: "Default", Project: "demo"},
}

// AuthOptions mirrors the fields of gophercloud.AuthOptions that password authentication
// scoped to a project uses. This package imports only the standard library, so convert:
//
//	o := srv.AuthOptions("demo")
//	opts := gophercloud.AuthOptions{IdentityEndpoint: o.IdentityEndpoint, Username: o.Username,
//		Password: o.Password, DomainName: o.DomainName, TenantName: o.TenantName, AllowReauth: true}
//
// DomainName is the user's and the project's domain; ProjectName equals TenantName (the
// name gophercloud/v2 and clientconfig use). Region is the catalog region for EndpointOpts.
type AuthOptions struct {
	IdentityEndpoint string
	Username         string
	Password         string
	DomainName       string
	TenantName       string
	ProjectName      string
	AllowReauth      bool
	Region           string
}

// Server is a running novakeys.
type Server struct {
	// Base URLs, http://127.0.0.1:PORT (no /v3, no /v2.1). A front turned off is "".
	ComputeURL, IdentityURL, AlibabaURL, TencentURL, TWCCURL, ConsoleURL string
	// URLs is every front's URL by name ("compute", "identity", ...).
	URLs map[string]string
	// AuthURL is IdentityURL + "/v3" (OS_AUTH_URL).
	AuthURL string
	// Region is the catalog region (OS_REGION_NAME).
	Region string
	// Users are the identity users AuthOptions knows; add yours when you start with
	// your own fixtures.
	Users map[string]User
	// Bin is the binary that runs.
	Bin string

	cmd         *exec.Cmd
	output      *tailBuffer
	exited      chan struct{}
	waitErr     error
	stopOnce    sync.Once
	stopErr     error
	stopTimeout time.Duration
}

// Start runs novakeys with the default Options and stops it when t's test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith runs novakeys with opts; t.Fatal when it does not come up, stopped (SIGTERM,
// then kill, reaped) in t.Cleanup.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Launch(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("novakeystest: %v", err)
		}
	})
	return s
}

// Launch is StartWith without a testing.TB, for TestMain: the caller must call Stop.
func Launch(opts Options) (*Server, error) {
	bin, err := findBinary(opts.Bin)
	if err != nil {
		return nil, err
	}
	// novakeys takes each flag once: one given in opts.Args replaces the helper's default.
	args := []string{"serve"}
	for _, f := range Fronts {
		if _, given := flagValue(opts.Args, "--"+f+"-bind"); !given {
			args = append(args, "--"+f+"-bind", "127.0.0.1:0")
		}
	}
	if _, given := flagValue(opts.Args, "--db"); !given {
		args = append(args, "--db", ":memory:")
	}
	region := "RegionOne"
	if r, given := flagValue(opts.Args, "--region"); given {
		region = r
	} else if opts.Region != "" {
		region = opts.Region
		args = append(args, "--region", opts.Region)
	}
	if opts.Seed != 0 {
		args = append(args, "--seed", strconv.FormatUint(opts.Seed, 10))
	}
	if !opts.Clock.IsZero() {
		args = append(args, "--clock", opts.Clock.UTC().Format(time.RFC3339Nano))
	}
	args = append(args, opts.Args...)
	want := expectedFronts(opts.Args)

	cmd := exec.Command(bin, args...)
	cmd.Env = childEnv(opts.Env)
	out := &tailBuffer{max: 64 << 10}
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("novakeystest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("novakeystest: starting %s: %v", bin, err)
	}
	s := &Server{
		URLs: map[string]string{}, Region: region, Bin: bin, Users: map[string]User{},
		cmd: cmd, output: out, exited: make(chan struct{}),
		stopTimeout: opts.StopTimeout,
	}
	for k, v := range DefaultUsers {
		s.Users[k] = v
	}
	if s.stopTimeout <= 0 {
		s.stopTimeout = 10 * time.Second
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(out, line)
			select {
			case lines <- line:
			default: // nobody waits any more
			}
		}
		close(lines)
		// The pipe is read to its end before Wait, as os/exec requires.
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	deadline := time.After(timeout)
	fail := func(why string) (*Server, error) {
		_ = s.Stop()
		return nil, fmt.Errorf("novakeystest: %s %s: %s (listening lines seen: %v); its output:\n%s",
			bin, strings.Join(args, " "), why, s.URLs, out.String())
	}
	for len(s.URLs) < len(want) {
		select {
		case line, ok := <-lines:
			if !ok {
				<-s.exited
				return fail(fmt.Sprintf("exited before it listened (%v)", s.waitErr))
			}
			for f := range want {
				if u := strings.TrimPrefix(line, "novakeys: "+f+" listening on "); u != line {
					s.URLs[f] = strings.TrimSpace(u)
				}
			}
		case <-deadline:
			return fail(fmt.Sprintf("no listening line for every front within %v", timeout))
		}
	}
	s.ComputeURL, s.IdentityURL = s.URLs["compute"], s.URLs["identity"]
	s.AlibabaURL, s.TencentURL = s.URLs["alibaba"], s.URLs["tencent"]
	s.TWCCURL, s.ConsoleURL = s.URLs["twcc"], s.URLs["console"]
	s.AuthURL = strings.TrimRight(s.IdentityURL, "/") + "/v3"
	return s, nil
}

func findBinary(bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	if b := os.Getenv("NOVAKEYS_BIN"); b != "" {
		return b, nil
	}
	b, err := exec.LookPath("novakeys")
	if err != nil {
		return "", errors.New("novakeystest: no novakeys binary: NOVAKEYS_BIN is not set and there is no novakeys on PATH " +
			"(build it with `cargo build` and set NOVAKEYS_BIN=<repo>/target/debug/novakeys, or install it on PATH)")
	}
	return b, nil
}

// flagValue is the value of the last `flag VALUE` or `flag=VALUE` in args.
func flagValue(args []string, flag string) (value string, given bool) {
	for i, a := range args {
		if strings.HasPrefix(a, flag+"=") {
			value, given = strings.TrimPrefix(a, flag+"="), true
		} else if a == flag && i+1 < len(args) {
			value, given = args[i+1], true
		}
	}
	return value, given
}

// expectedFronts: every front, less those `--<front>-bind off` turns off.
func expectedFronts(args []string) map[string]bool {
	want := map[string]bool{}
	for _, f := range Fronts {
		if v, _ := flagValue(args, "--"+f+"-bind"); v != "off" {
			want[f] = true
		}
	}
	return want
}

func childEnv(extra []string) []string {
	var env []string
	rustLog := false
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "NOVAKEYS_") {
			continue
		}
		if strings.HasPrefix(kv, "RUST_LOG=") {
			rustLog = true
		}
		env = append(env, kv)
	}
	if !rustLog {
		env = append(env, "RUST_LOG=warn")
	}
	return append(env, extra...)
}

// Stop ends the server: SIGTERM, then SIGKILL after Options.StopTimeout, and reaps it.
// Idempotent; StartWith calls it in t.Cleanup. An error when the server had already exited
// by itself, or did not stop on SIGTERM.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		select {
		case <-s.exited:
			s.stopErr = fmt.Errorf("novakeys exited before it was stopped (%v); its output:\n%s", s.waitErr, s.output.String())
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(s.stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.stopErr = fmt.Errorf("novakeys did not stop within %v of SIGTERM, killed; its output:\n%s", s.stopTimeout, s.output.String())
		}
	})
	return s.stopErr
}

// Exited reports whether the process has ended (and was reaped).
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Output is what the server printed so far (stderr and stdout, the last 64 KiB).
func (s *Server) Output() string { return s.output.String() }

// AuthOptions are gophercloud-style password options for a user of s.Users (the default
// fixtures: "admin", "demo", "reader"). Panics on an unknown user.
func (s *Server) AuthOptions(user string) AuthOptions {
	u, ok := s.Users[user]
	if !ok {
		panic(fmt.Sprintf("novakeystest: no user %q in Server.Users (the default fixtures have admin, demo, reader)", user))
	}
	return AuthOptions{
		IdentityEndpoint: s.AuthURL, Username: u.Name, Password: u.Password,
		DomainName: u.Domain, TenantName: u.Project, ProjectName: u.Project,
		AllowReauth: true, Region: s.Region,
	}
}

// ---- controls (/_novakeys/* on the compute listener) -------------------------------------

// ControlError is a control call's unexpected answer.
type ControlError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *ControlError) Error() string {
	return fmt.Sprintf("novakeys control %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Control calls a control: method and path (e.g. "POST", "/_novakeys/reset"), body marshalled
// as JSON (nil: none). State-changing calls are sent with Content-Type: application/json, as
// the controls require. Returns the status and body; err only when there is no answer.
func (s *Server) Control(method, path string, body interface{}) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimRight(s.ComputeURL, "/")+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func (s *Server) must(t testing.TB, method, path string, body interface{}, ok ...int) []byte {
	t.Helper()
	status, data, err := s.Control(method, path, body)
	if err != nil {
		t.Fatalf("novakeys control %s %s: %v", method, path, err)
	}
	for _, c := range ok {
		if status == c {
			return data
		}
	}
	t.Fatal((&ControlError{method, path, status, string(data)}).Error())
	return nil
}

// Reset returns the server to its fixtures: key pairs, users, tokens, quota usage, journal,
// fault rules and the clock (issued tokens no longer work).
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	s.must(t, "POST", "/_novakeys/reset", nil, 204)
}

// Snapshot saves the whole state as name (1-64 of [A-Za-z0-9_.-]; replaces).
func (s *Server) Snapshot(t testing.TB, name string) {
	t.Helper()
	s.must(t, "PUT", "/_novakeys/snapshots/"+name, nil, 201)
}

// Restore replaces the state with snapshot name.
func (s *Server) Restore(t testing.TB, name string) {
	t.Helper()
	s.must(t, "POST", "/_novakeys/snapshots/"+name+"/restore", nil, 204)
}

// DeleteSnapshot removes snapshot name.
func (s *Server) DeleteSnapshot(t testing.TB, name string) {
	t.Helper()
	s.must(t, "DELETE", "/_novakeys/snapshots/"+name, nil, 204)
}

// Clock is the server's clock as GET /_novakeys/clock tells it.
type Clock struct {
	Now    time.Time `json:"now"`
	Frozen bool      `json:"frozen"`
	Seed   *uint64   `json:"seed"`
}

func (s *Server) clock(t testing.TB, data []byte) Clock {
	t.Helper()
	var c Clock
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("novakeys clock: %v in %s", err, data)
	}
	return c
}

// Clock reads the server's clock.
func (s *Server) Clock(t testing.TB) Clock {
	t.Helper()
	return s.clock(t, s.must(t, "GET", "/_novakeys/clock", nil, 200))
}

// SetClock freezes the clock at at.
func (s *Server) SetClock(t testing.TB, at time.Time) Clock {
	t.Helper()
	body := map[string]interface{}{"set": at.UTC().Format(time.RFC3339Nano)}
	return s.clock(t, s.must(t, "POST", "/_novakeys/clock", body, 200))
}

// AdvanceClock moves the clock by d (freezing it if it was running).
func (s *Server) AdvanceClock(t testing.TB, d time.Duration) Clock {
	t.Helper()
	body := map[string]interface{}{"advance_seconds": d.Seconds()}
	return s.clock(t, s.must(t, "POST", "/_novakeys/clock", body, 200))
}

// RunClock lets a frozen clock run again.
func (s *Server) RunClock(t testing.TB) Clock {
	t.Helper()
	return s.clock(t, s.must(t, "POST", "/_novakeys/clock", map[string]interface{}{"set": nil}, 200))
}

// AddFault adds a fault rule (the FaultRule of GET /_novakeys/openapi.json, e.g.
// map[string]interface{}{"match": {"method": "POST", "path": "/v2.1/os-keypairs"},
// "action": {"status": 503}, "times": 1}) and returns its id.
func (s *Server) AddFault(t testing.TB, rule interface{}) string {
	t.Helper()
	data := s.must(t, "POST", "/_novakeys/faults", rule, 201)
	var r struct {
		ID interface{} `json:"id"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.ID == nil {
		t.Fatalf("novakeys fault rule without an id: %s", data)
	}
	return fmt.Sprint(r.ID)
}

// DeleteFault removes one fault rule.
func (s *Server) DeleteFault(t testing.TB, id string) {
	t.Helper()
	s.must(t, "DELETE", "/_novakeys/faults/"+id, nil, 204)
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults(t testing.TB) {
	t.Helper()
	s.must(t, "DELETE", "/_novakeys/faults", nil, 204)
}

// Journal is the request journal (API calls, oldest first, secrets redacted), each entry
// as decoded JSON.
func (s *Server) Journal(t testing.TB) []map[string]interface{} {
	t.Helper()
	data := s.must(t, "GET", "/_novakeys/journal", nil, 200)
	var j struct {
		Entries []map[string]interface{} `json:"entries"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatalf("novakeys journal: %v in %s", err, data)
	}
	return j.Entries
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append([]byte(nil), b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
