// gophercloud compatibility suite for novakeys.
//
// Stock gophercloud as Debian ships it (0.x, import path github.com/gophercloud/gophercloud),
// driven the way the Terraform OpenStack provider's openstack_compute_keypair_v2 resource and
// data source drive it, plus gophercloud's own keypairs acceptance tests
// (internal/acceptance/openstack/compute/v2/keypairs_test.go), same names.
//
// Debian's gophercloud predates the user_id options of the keypairs package (CreateOpts.UserID,
// GetOpts, ListOpts, DeleteOpts: gophercloud >= 0.13 and v2). Where a test needs them, the
// helpers below build exactly the request those newer versions build (same body map, same
// "?user_id=" query from gophercloud.BuildQueryString, same client calls and ok codes), on the
// stock ServiceClient.
//
// The server is the package's own, started in TestMain by go/novakeystest (the novakeys binary
// is $NOVAKEYS_BIN, else novakeys on PATH): its AuthURL, IdentityURL (the identity root, for
// version discovery), Region, and the default fixtures' users demo (the ordinary user) and
// admin.
package compat

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud"
	"github.com/gophercloud/gophercloud/openstack"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/keypairs"
	"github.com/gophercloud/gophercloud/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/pagination"
	"golang.org/x/crypto/ssh"
	"novakeys/novakeystest"
)

// The Terraform provider's microversion for user_id (computeKeyPairV2UserIDMicroversion).
const userIDMicroversion = "2.10"

// From terraform-provider-openstack's TestAccComputeV2KeypairDataSource_basic.
const (
	tfPublicKey   = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDAjpC1hwiOCCmKEWxJ4qzTTsJbKzndLo1BCz5PcwtUnflmU+gHJtWMZKpuEGVi29h0A/+ydKek1O18k10Ff+4tyFjiHDQAT9+OfgWf7+b1yK+qDip3X1C0UPMbwHlTfSGWLGZquwhvEFx9k3h/M+VtMvwR1lJ9LUyTAImnNjWG7TAIPmui30HvM2UiFEmqkr4ijq45MyX2+fLIePLRIFuu1p4whjHAQYufqyno3BS48icQb4p6iVEZPo4AE2o9oIyQvj2mx4dk5Y8CgSETOZTYDOR3rU2fZTRDRgPJDH9FWvQjF5tA0p3d9CoWWd2s6GKKbfoUIi8R/Db1BSPJwkqB jrp-hp-pc"
	tfFingerprint = "78:a9:d0:f9:af:a8:1b:ca:bb:9f:65:88:47:af:1d:a9"
)

// TestAccComputeV2Keypair_generatePrivate's checks.
var (
	tfFingerprintRe = regexp.MustCompile(`[a-f0-9:]+`)
	tfPrivateKeyRe  = regexp.MustCompile(`.*BEGIN RSA PRIVATE KEY.*`)
	md5ColonHexRe   = regexp.MustCompile(`^[a-f0-9]{2}(:[a-f0-9]{2}){15}$`)
)

// ---- authentication, as the provider does it ---------------------------------------------

type creds struct{ username, password, project, domain string }

// srv is the package's novakeys, started by TestMain through go/novakeystest (its URLs, region
// and the default fixtures' users).
var srv *novakeystest.Server

func TestMain(m *testing.M) {
	var err error
	if srv, err = novakeystest.Launch(novakeystest.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func credsOf(user string) creds {
	o := srv.AuthOptions(user)
	return creds{o.Username, o.Password, o.TenantName, o.DomainName}
}

// The ordinary user, as the Terraform acceptance tests run (OS_USERNAME=demo).
func userCreds(t *testing.T) creds { return credsOf("demo") }

// An admin, for the user_id tests.
func adminCreds(t *testing.T) creds { return credsOf("admin") }

// providerAuthOptions builds what the provider's config (gophercloud/utils clientconfig) builds
// from OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME/OS_DOMAIN_NAME: the domain is the user's and
// the project's, the scope is explicit, and re-authentication is allowed.
func providerAuthOptions(authURL string, c creds) gophercloud.AuthOptions {
	return gophercloud.AuthOptions{
		IdentityEndpoint: authURL,
		Username:         c.username,
		Password:         c.password,
		DomainName:       c.domain,
		Scope:            &gophercloud.AuthScope{ProjectName: c.project, DomainName: c.domain},
		AllowReauth:      true,
	}
}

type session struct {
	provider *gophercloud.ProviderClient
	userID   string
}

// trace logs every exchange (as the provider's debug transport does): method, URL, the
// microversion headers sent, and the status with the version headers returned.
type trace struct{ t *testing.T }

func (tr trace) RoundTrip(req *http.Request) (*http.Response, error) {
	mv := req.Header.Get("OpenStack-API-Version")
	legacy := req.Header.Get("X-OpenStack-Nova-API-Version")
	start := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(req)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		tr.t.Logf("%s %s [%s|%s] -> %v (%v)", req.Method, req.URL, mv, legacy, err, took)
		return resp, err
	}
	tr.t.Logf("%s %s [%s|%s] -> %d [%s|%s] (%v)", req.Method, req.URL, mv, legacy, resp.StatusCode,
		resp.Header.Get("OpenStack-API-Version"), resp.Header.Get("X-OpenStack-Nova-API-Version"), took)
	return resp, err
}

func authenticate(t *testing.T, opts gophercloud.AuthOptions) *session {
	t.Helper()
	// openstack.AuthenticatedClient, with a tracing http.Client in between.
	provider, err := openstack.NewClient(opts.IdentityEndpoint)
	if err == nil {
		provider.HTTPClient = http.Client{Transport: trace{t}}
		err = openstack.Authenticate(provider, opts)
	}
	if err != nil {
		t.Fatalf("authenticating %s at %s: %v", opts.Username, opts.IdentityEndpoint, err)
	}
	// The provider's own user, from the token it just got (as its auth result).
	res, ok := provider.GetAuthResult().(tokens.CreateResult)
	if !ok {
		t.Fatalf("auth result is %T, want a Keystone v3 tokens.CreateResult", provider.GetAuthResult())
	}
	user, err := res.ExtractUser()
	if err != nil || user.ID == "" {
		t.Fatalf("token has no user: %v", err)
	}
	// tokens.Token.ExpiresAt is a time.Time: expires_at must be RFC 3339, in the future.
	tok, err := res.ExtractToken()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if left := time.Until(tok.ExpiresAt); left < 5*time.Minute || left > 25*time.Hour {
		t.Fatalf("token expires_at %v is %v from now", tok.ExpiresAt, left)
	}
	return &session{provider: provider, userID: user.ID}
}

func login(t *testing.T, c creds) *session {
	return authenticate(t, providerAuthOptions(srv.AuthURL, c))
}

func (s *session) compute(t *testing.T) *gophercloud.ServiceClient {
	t.Helper()
	client, err := openstack.NewComputeV2(s.provider, gophercloud.EndpointOpts{
		Region: srv.Region, Availability: gophercloud.AvailabilityPublic,
	})
	if err != nil {
		t.Fatalf("compute endpoint from the catalog: %v", err)
	}
	return client
}

func (s *session) identity(t *testing.T) *gophercloud.ServiceClient {
	t.Helper()
	client, err := openstack.NewIdentityV3(s.provider, gophercloud.EndpointOpts{
		Region: srv.Region, Availability: gophercloud.AvailabilityPublic,
	})
	if err != nil {
		t.Fatalf("identity endpoint from the catalog: %v", err)
	}
	return client
}

// ---- the user_id request shapes of gophercloud >= 0.13 / v2 ---------------------------------

// createOpts is keypairs.CreateOpts of gophercloud v2 (Name, UserID, Type, PublicKey).
type createOpts struct {
	Name      string `json:"name" required:"true"`
	UserID    string `json:"user_id,omitempty"`
	Type      string `json:"type,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

func (opts createOpts) ToKeyPairCreateMap() (map[string]interface{}, error) {
	return gophercloud.BuildRequestBody(opts, "keypair")
}

// userOpts is GetOpts / ListOpts / DeleteOpts of gophercloud v2.
type userOpts struct {
	UserID string `q:"user_id"`
}

func (opts userOpts) query(t *testing.T) string {
	q, err := gophercloud.BuildQueryString(opts)
	if err != nil {
		t.Fatal(err)
	}
	return q.String()
}

func getKeyPair(t *testing.T, client *gophercloud.ServiceClient, name string, opts userOpts) (r keypairs.GetResult) {
	url := client.ServiceURL("os-keypairs", name) + opts.query(t)
	resp, err := client.Get(url, &r.Body, nil)
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return
}

func listKeyPairs(t *testing.T, client *gophercloud.ServiceClient, opts userOpts) []keypairs.KeyPair {
	t.Helper()
	url := client.ServiceURL("os-keypairs") + opts.query(t)
	pages, err := pagination.NewPager(client, url, func(r pagination.PageResult) pagination.Page {
		return keypairs.KeyPairPage{SinglePageBase: pagination.SinglePageBase(r)}
	}).AllPages()
	if err != nil {
		t.Fatalf("list key pairs (%s): %v", url, err)
	}
	all, err := keypairs.ExtractKeyPairs(pages)
	if err != nil {
		t.Fatalf("extract key pairs: %v", err)
	}
	return all
}

func deleteKeyPair(t *testing.T, client *gophercloud.ServiceClient, name string, opts userOpts) (r keypairs.DeleteResult) {
	url := client.ServiceURL("os-keypairs", name) + opts.query(t)
	resp, err := client.Delete(url, nil)
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return
}

// ---- helpers ----------------------------------------------------------------------------

var nameSeq int64

// randomName is tools.RandomString(prefix, n): letters and digits only.
func randomName(prefix string) string {
	const alphanum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphanum[int(b[i])%len(alphanum)]
	}
	return fmt.Sprintf("%s%s%d", prefix, b, atomic.AddInt64(&nameSeq, 1))
}

// createKey is the acceptance tests' createKey: an RSA-2048 authorized_keys line ("...\n").
func createKey(t *testing.T) string {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(ssh.MarshalAuthorizedKey(pub))
}

// md5Fingerprint is Nova's fingerprint, computed here: colon-hex MD5 of the decoded key blob.
func md5Fingerprint(t *testing.T, publicKey string) string {
	t.Helper()
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(publicKey))
	if err != nil {
		t.Fatalf("returned public key does not parse: %v\n%q", err, publicKey)
	}
	sum := md5.Sum(pub.Marshal())
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02x", b)
	}
	fp := strings.Join(hexes, ":")
	if legacy := ssh.FingerprintLegacyMD5(pub); legacy != fp {
		t.Fatalf("x/crypto/ssh legacy MD5 %s != %s", legacy, fp)
	}
	return fp
}

func mustCreate(t *testing.T, client *gophercloud.ServiceClient, opts keypairs.CreateOptsBuilder) *keypairs.KeyPair {
	t.Helper()
	kp, err := keypairs.Create(client, opts).Extract()
	if err != nil {
		t.Fatalf("create key pair: %v", err)
	}
	if kp == nil {
		t.Fatal("create key pair: no keypair in the response")
	}
	return kp
}

func assertEqual(t *testing.T, what string, got, want interface{}) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %#v, want %#v", what, got, want)
	}
}

func is404(err error) bool {
	_, ok := err.(gophercloud.ErrDefault404)
	return ok
}

func is403(err error) bool {
	_, ok := err.(gophercloud.ErrDefault403)
	return ok
}

// assertGone is the provider's CheckDestroy / CheckDeleted: Get must be a 404 now, and so must
// a second Delete.
func assertGone(t *testing.T, client *gophercloud.ServiceClient, name string, opts userOpts) {
	t.Helper()
	_, err := getKeyPair(t, client, name, opts).Extract()
	if !is404(err) {
		t.Fatalf("Get %s after delete: want gophercloud.ErrDefault404, got %T: %v", name, err, err)
	}
	err = deleteKeyPair(t, client, name, opts).ExtractErr()
	if !is404(err) {
		t.Fatalf("Delete %s again: want gophercloud.ErrDefault404, got %T: %v", name, err, err)
	}
}

// keyPairType reads keypair.type from a response body, as gophercloud v2's KeyPair.Type does
// (Debian's 0.x KeyPair has no Type field).
func keyPairType(t *testing.T, r gophercloud.Result) string {
	t.Helper()
	var s struct {
		KeyPair struct {
			Type string `json:"type"`
		} `json:"keypair"`
	}
	if err := r.ExtractInto(&s); err != nil {
		t.Fatalf("keypair body: %v", err)
	}
	return s.KeyPair.Type
}

func findKeyPair(all []keypairs.KeyPair, name string) *keypairs.KeyPair {
	for i := range all {
		if all[i].Name == name {
			return &all[i]
		}
	}
	return nil
}

// ---- gophercloud acceptance tests (internal/acceptance/openstack/compute/v2) ----------------

func TestKeyPairsParse(t *testing.T) {
	client := login(t, userCreds(t)).compute(t)
	assertEqual(t, "microversion", client.Microversion, "")

	kp := mustCreate(t, client, keypairs.CreateOpts{Name: randomName("keypair_")})
	defer deleteKeyPair(t, client, kp.Name, userOpts{})

	// "There was a series of OpenStack releases, between Liberty and Ocata, where the returned
	// SSH key was not parsable by Go."
	signer, err := ssh.ParsePrivateKey([]byte(kp.PrivateKey))
	if err != nil {
		t.Fatalf("ssh.ParsePrivateKey: %v\n%s", err, kp.PrivateKey)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(kp.PublicKey))
	if err != nil {
		t.Fatalf("ssh.ParseAuthorizedKey(public_key): %v\n%q", err, kp.PublicKey)
	}
	assertEqual(t, "generated key type", pub.Type(), ssh.KeyAlgoRSA)
	if string(signer.PublicKey().Marshal()) != string(pub.Marshal()) {
		t.Fatalf("private_key and public_key are not one key pair")
	}
}

func TestKeyPairsCreateDelete(t *testing.T) {
	client := login(t, userCreds(t)).compute(t)

	kp := mustCreate(t, client, keypairs.CreateOpts{Name: randomName("keypair_")})

	allPages, err := keypairs.List(client).AllPages()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	allKeys, err := keypairs.ExtractKeyPairs(allPages)
	if err != nil {
		t.Fatalf("ExtractKeyPairs: %v", err)
	}
	found := findKeyPair(allKeys, kp.Name)
	if found == nil {
		t.Fatalf("%s not in the list %+v", kp.Name, allKeys)
	}
	assertEqual(t, "listed fingerprint", found.Fingerprint, kp.Fingerprint)
	assertEqual(t, "listed public_key", found.PublicKey, kp.PublicKey)

	if err := keypairs.Delete(client, kp.Name).ExtractErr(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = keypairs.Get(client, kp.Name).Extract()
	if !is404(err) {
		t.Fatalf("Get after delete: want gophercloud.ErrDefault404, got %T: %v", err, err)
	}
}

func TestKeyPairsImportPublicKey(t *testing.T) {
	client := login(t, userCreds(t)).compute(t)

	publicKey := createKey(t)
	if !strings.HasSuffix(publicKey, "\n") {
		t.Fatalf("ssh.MarshalAuthorizedKey should end in a newline: %q", publicKey)
	}
	name := randomName("keypair_")
	kp := mustCreate(t, client, keypairs.CreateOpts{Name: name, PublicKey: publicKey})
	defer deleteKeyPair(t, client, kp.Name, userOpts{})

	assertEqual(t, "name", kp.Name, name)
	assertEqual(t, "public_key (byte for byte)", kp.PublicKey, publicKey)
	assertEqual(t, "fingerprint", kp.Fingerprint, md5Fingerprint(t, publicKey))
	assertEqual(t, "private_key of an imported key", kp.PrivateKey, "")
}

func TestKeyPairsCreateDeleteByID(t *testing.T) {
	admin := login(t, adminCreds(t))
	identityClient := admin.identity(t)
	computeClient := admin.compute(t)
	computeClient.Microversion = userIDMicroversion

	// identity.CreateUser: users.CreateOpts with only a random name.
	userName := randomName("ACPTTEST")
	user, err := users.Create(identityClient, users.CreateOpts{Name: userName}).Extract()
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	assertEqual(t, "user name", user.Name, userName)
	defer func() {
		if err := users.Delete(identityClient, user.ID).ExtractErr(); err != nil {
			t.Errorf("delete user %s: %v", user.ID, err)
		}
	}()

	keyPair := mustCreate(t, computeClient, createOpts{Name: randomName("keypair_"), UserID: user.ID})
	assertEqual(t, "created user_id", keyPair.UserID, user.ID)

	got := getKeyPair(t, computeClient, keyPair.Name, userOpts{UserID: user.ID})
	newKeyPair, err := got.Extract()
	if err != nil {
		t.Fatalf("Get ?user_id=: %v", err)
	}
	assertEqual(t, "name", newKeyPair.Name, keyPair.Name)
	assertEqual(t, "user_id", newKeyPair.UserID, user.ID)
	assertEqual(t, "type (gophercloud v2's KeyPair.Type, from 2.2)", keyPairType(t, got.Result), "ssh")

	if findKeyPair(listKeyPairs(t, computeClient, userOpts{UserID: user.ID}), keyPair.Name) == nil {
		t.Fatalf("%s not listed for user %s", keyPair.Name, user.ID)
	}

	if err := deleteKeyPair(t, computeClient, keyPair.Name, userOpts{UserID: user.ID}).ExtractErr(); err != nil {
		t.Fatalf("Delete ?user_id=: %v", err)
	}
	assertGone(t, computeClient, keyPair.Name, userOpts{UserID: user.ID})
}

// ---- the Terraform provider's openstack_compute_keypair_v2 ----------------------------------

// TestAccComputeV2Keypair_generatePrivate: no public_key, no user_id, so no microversion (2.1).
// Create, Read (Get), import (Read by name), Delete, CheckDestroy.
func TestAccComputeV2Keypair_generatePrivate(t *testing.T) {
	client := login(t, userCreds(t)).compute(t)

	name := randomName("kp_")
	kp := mustCreate(t, client, createOpts{Name: name})
	assertEqual(t, "name (the resource id)", kp.Name, name)
	if !tfPrivateKeyRe.MatchString(kp.PrivateKey) || !strings.Contains(kp.PrivateKey, "BEGIN RSA PRIVATE KEY") {
		t.Fatalf("private_key is not an RSA PKCS#1 PEM: %q", kp.PrivateKey)
	}
	if _, err := ssh.ParsePrivateKey([]byte(kp.PrivateKey)); err != nil {
		t.Fatalf("ssh.ParsePrivateKey: %v", err)
	}
	if !tfFingerprintRe.MatchString(kp.Fingerprint) || !md5ColonHexRe.MatchString(kp.Fingerprint) {
		t.Fatalf("fingerprint %q is not colon-hex MD5", kp.Fingerprint)
	}
	assertEqual(t, "fingerprint = MD5 of the returned public key", kp.Fingerprint, md5Fingerprint(t, kp.PublicKey))

	// Read, as after create and on refresh / import.
	readRes := getKeyPair(t, client, name, userOpts{})
	assertEqual(t, "type at 2.1 (absent)", keyPairType(t, readRes.Result), "")
	read, err := readRes.Extract()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertEqual(t, "read name", read.Name, name)
	assertEqual(t, "read public_key", read.PublicKey, kp.PublicKey)
	assertEqual(t, "read fingerprint", read.Fingerprint, kp.Fingerprint)
	assertEqual(t, "read private_key (only on create)", read.PrivateKey, "")

	if findKeyPair(listKeyPairs(t, client, userOpts{}), name) == nil {
		t.Fatalf("%s not listed", name)
	}

	if err := deleteKeyPair(t, client, name, userOpts{}).ExtractErr(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertGone(t, client, name, userOpts{})
}

// TestAccComputeV2Keypair_basic: imports an ssh-rsa key generated in the test.
func TestAccComputeV2Keypair_basic(t *testing.T) {
	s := login(t, userCreds(t))
	client := s.compute(t)

	publicKey := createKey(t)
	name := randomName("kp_")
	kp := mustCreate(t, client, createOpts{Name: name, PublicKey: publicKey})
	assertEqual(t, "public_key (byte for byte)", kp.PublicKey, publicKey)
	fp := md5Fingerprint(t, publicKey)
	assertEqual(t, "fingerprint", kp.Fingerprint, fp)
	assertEqual(t, "user_id", kp.UserID, s.userID)

	read, err := getKeyPair(t, client, name, userOpts{}).Extract()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertEqual(t, "read public_key", read.PublicKey, publicKey)
	assertEqual(t, "read fingerprint", read.Fingerprint, fp)
	assertEqual(t, "read user_id", read.UserID, s.userID)

	listed := findKeyPair(listKeyPairs(t, client, userOpts{}), name)
	if listed == nil {
		t.Fatalf("%s not listed", name)
	}
	assertEqual(t, "listed public_key", listed.PublicKey, publicKey)
	assertEqual(t, "listed fingerprint", listed.Fingerprint, fp)

	if err := deleteKeyPair(t, client, name, userOpts{}).ExtractErr(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertGone(t, client, name, userOpts{})
}

// TestAccComputeV2KeypairDataSource_basic: the fixed key, read back by the data source (always
// microversion 2.10, no user_id) with the exact fingerprint.
func TestAccComputeV2KeypairDataSource_basic(t *testing.T) {
	s := login(t, userCreds(t))
	client := s.compute(t)

	name := randomName("the-key-name-")
	kp := mustCreate(t, client, createOpts{Name: name, PublicKey: tfPublicKey})
	defer deleteKeyPair(t, client, name, userOpts{})
	assertEqual(t, "fingerprint", kp.Fingerprint, tfFingerprint)
	assertEqual(t, "computed fingerprint", md5Fingerprint(t, tfPublicKey), tfFingerprint)

	ds := s.compute(t)
	ds.Microversion = userIDMicroversion
	got, err := getKeyPair(t, ds, name, userOpts{}).Extract()
	if err != nil {
		t.Fatalf("data source Get at 2.10: %v", err)
	}
	assertEqual(t, "name", got.Name, name)
	assertEqual(t, "fingerprint", got.Fingerprint, tfFingerprint)
	assertEqual(t, "public_key", got.PublicKey, tfPublicKey)
	assertEqual(t, "user_id", got.UserID, s.userID)
}

// The resource with user_id = the demo user's id (looked up in Keystone), managed by the admin
// at 2.10: create, read, list, delete with ?user_id=, then CheckDestroy. The owner sees the key
// as its own in between.
func TestAccComputeV2Keypair_adminForOtherUser(t *testing.T) {
	admin := login(t, adminCreds(t))
	demoCreds := userCreds(t)
	demo := login(t, demoCreds)

	// The user's id, as an admin finds it in Keystone (GET /v3/users?name=).
	pages, err := users.List(admin.identity(t), users.ListOpts{Name: demoCreds.username}).AllPages()
	if err != nil {
		t.Fatalf("list users ?name=%s: %v", demoCreds.username, err)
	}
	found, err := users.ExtractUsers(pages)
	if err != nil || len(found) != 1 {
		t.Fatalf("users named %s: %v %+v", demoCreds.username, err, found)
	}
	userID := found[0].ID
	assertEqual(t, "Keystone's id for the user = its token's user id", userID, demo.userID)

	client := admin.compute(t)
	client.Microversion = userIDMicroversion
	publicKey := createKey(t)
	name := randomName("kp_")
	kp := mustCreate(t, client, createOpts{Name: name, PublicKey: publicKey, UserID: userID})
	assertEqual(t, "created user_id", kp.UserID, userID)
	assertEqual(t, "public_key", kp.PublicKey, publicKey)
	fp := md5Fingerprint(t, publicKey)
	assertEqual(t, "fingerprint", kp.Fingerprint, fp)

	read, err := getKeyPair(t, client, name, userOpts{UserID: userID}).Extract()
	if err != nil {
		t.Fatalf("Read ?user_id=: %v", err)
	}
	assertEqual(t, "read user_id", read.UserID, userID)
	assertEqual(t, "read fingerprint", read.Fingerprint, fp)
	assertEqual(t, "read public_key", read.PublicKey, publicKey)

	if findKeyPair(listKeyPairs(t, client, userOpts{UserID: userID}), name) == nil {
		t.Fatalf("%s not listed ?user_id=%s", name, userID)
	}
	// Not the admin's own key.
	if findKeyPair(listKeyPairs(t, client, userOpts{}), name) != nil {
		t.Fatalf("%s listed among the admin's own keys", name)
	}
	if _, err := getKeyPair(t, client, name, userOpts{}).Extract(); !is404(err) {
		t.Fatalf("admin Get without user_id: want ErrDefault404, got %T: %v", err, err)
	}
	// The owner sees it with no microversion.
	own, err := keypairs.Get(demo.compute(t), name).Extract()
	if err != nil {
		t.Fatalf("owner Get: %v", err)
	}
	assertEqual(t, "owner sees fingerprint", own.Fingerprint, fp)

	if err := deleteKeyPair(t, client, name, userOpts{UserID: userID}).ExtractErr(); err != nil {
		t.Fatalf("Delete ?user_id=: %v", err)
	}
	assertGone(t, client, name, userOpts{UserID: userID})
	if _, err := keypairs.Get(demo.compute(t), name).Extract(); !is404(err) {
		t.Fatalf("owner Get after delete: want ErrDefault404, got %T: %v", err, err)
	}
}

// A non-admin naming another user's id at 2.10 is refused by policy (403), for every action,
// whether or not such a key exists.
func TestAccComputeV2Keypair_otherUserForbidden(t *testing.T) {
	admin := login(t, adminCreds(t))
	demo := login(t, userCreds(t))
	if admin.userID == demo.userID {
		t.Fatal("admin and user are the same user")
	}

	// A key the admin owns, to make the point that it exists.
	adminClient := admin.compute(t)
	name := randomName("kp_")
	mustCreate(t, adminClient, createOpts{Name: name, PublicKey: createKey(t)})
	defer deleteKeyPair(t, adminClient, name, userOpts{})

	client := demo.compute(t)
	client.Microversion = userIDMicroversion
	other := userOpts{UserID: admin.userID}

	_, err := keypairs.Create(client, createOpts{Name: randomName("kp_"), PublicKey: createKey(t), UserID: admin.userID}).Extract()
	if !is403(err) {
		t.Fatalf("create for another user: want gophercloud.ErrDefault403, got %T: %v", err, err)
	}
	for _, n := range []string{name, randomName("nosuch_")} {
		if _, err := getKeyPair(t, client, n, other).Extract(); !is403(err) {
			t.Fatalf("Get %s ?user_id=other: want ErrDefault403, got %T: %v", n, err, err)
		}
		if err := deleteKeyPair(t, client, n, other).ExtractErr(); !is403(err) {
			t.Fatalf("Delete %s ?user_id=other: want ErrDefault403, got %T: %v", n, err, err)
		}
	}
	url := client.ServiceURL("os-keypairs") + other.query(t)
	_, err = pagination.NewPager(client, url, func(r pagination.PageResult) pagination.Page {
		return keypairs.KeyPairPage{SinglePageBase: pagination.SinglePageBase(r)}
	}).AllPages()
	if !is403(err) {
		t.Fatalf("List ?user_id=other: want ErrDefault403, got %T: %v", err, err)
	}

	// The key is still there for its owner.
	if _, err := keypairs.Get(adminClient, name).Extract(); err != nil {
		t.Fatalf("owner Get: %v", err)
	}
	// The user's own id is fine.
	own := mustCreate(t, client, createOpts{Name: randomName("kp_"), PublicKey: createKey(t), UserID: demo.userID})
	assertEqual(t, "own user_id", own.UserID, demo.userID)
	if err := deleteKeyPair(t, client, own.Name, userOpts{UserID: demo.userID}).ExtractErr(); err != nil {
		t.Fatalf("Delete own ?user_id=: %v", err)
	}
}

// ---- authentication variants ---------------------------------------------------------------

// openstack.AuthOptionsFromEnv, as gophercloud's acceptance clients and many tools use it, with
// the environment the Terraform acceptance tests export (the ordinary user).
func TestAuthOptionsFromEnv(t *testing.T) {
	o := srv.AuthOptions("demo")
	for k, v := range map[string]string{"OS_AUTH_URL": o.IdentityEndpoint, "OS_USERNAME": o.Username,
		"OS_PASSWORD": o.Password, "OS_PROJECT_NAME": o.ProjectName, "OS_DOMAIN_NAME": o.DomainName,
		"OS_REGION_NAME": o.Region} {
		t.Setenv(k, v)
	}
	opts, err := openstack.AuthOptionsFromEnv()
	if err != nil {
		t.Fatalf("AuthOptionsFromEnv: %v", err)
	}
	opts.AllowReauth = true
	s := authenticate(t, opts)
	client := s.compute(t)
	if _, err := keypairs.List(client).AllPages(); err != nil {
		t.Fatalf("List: %v", err)
	}
}

// An unversioned auth URL makes gophercloud discover the identity version (GET /).
func TestAuthVersionDiscovery(t *testing.T) {
	root := strings.TrimRight(srv.IdentityURL, "/")
	s := authenticate(t, providerAuthOptions(root, userCreds(t)))
	if _, err := keypairs.List(s.compute(t)).AllPages(); err != nil {
		t.Fatalf("List: %v", err)
	}
	// Versioned without the trailing slash, as OS_AUTH_URL usually is, skips discovery.
	s = authenticate(t, providerAuthOptions(root+"/v3", userCreds(t)))
	if _, err := keypairs.List(s.compute(t)).AllPages(); err != nil {
		t.Fatalf("List: %v", err)
	}
}

// Scope by ids: OS_USER_DOMAIN_ID / OS_PROJECT_DOMAIN_ID=default and the project id, as
// AuthOptions without a Scope (TenantID + DomainID), the other common provider configuration.
func TestAuthByDomainAndProjectID(t *testing.T) {
	c := userCreds(t)
	first := login(t, c)
	res := first.provider.GetAuthResult().(tokens.CreateResult)
	project, err := res.ExtractProject()
	if err != nil || project == nil || project.ID == "" {
		t.Fatalf("token has no project: %v %+v", err, project)
	}
	assertEqual(t, "project name", project.Name, c.project)
	if project.Domain.ID == "" {
		t.Fatalf("project has no domain id: %+v", project)
	}
	s := authenticate(t, gophercloud.AuthOptions{
		IdentityEndpoint: srv.AuthURL,
		Username:         c.username,
		Password:         c.password,
		DomainID:         project.Domain.ID,
		TenantID:         project.ID,
		AllowReauth:      true,
	})
	assertEqual(t, "user id", s.userID, first.userID)
	if _, err := keypairs.List(s.compute(t)).AllPages(); err != nil {
		t.Fatalf("List: %v", err)
	}
}

// A wrong password is a gophercloud.ErrDefault401 from Keystone, not a retry loop.
func TestAuthWrongPassword(t *testing.T) {
	c := userCreds(t)
	opts := providerAuthOptions(srv.AuthURL, c)
	opts.Password = c.password + "-wrong"
	provider, err := openstack.NewClient(opts.IdentityEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	provider.HTTPClient = http.Client{Transport: trace{t}}
	err = openstack.Authenticate(provider, opts)
	if _, ok := err.(gophercloud.ErrDefault401); !ok {
		t.Fatalf("want gophercloud.ErrDefault401, got %T: %v", err, err)
	}
}

// With AllowReauth (the provider always sets it) a 401 from Nova makes gophercloud
// re-authenticate once and retry: here the token is revoked under it.
func TestAuthReauthAfterRevoke(t *testing.T) {
	s := login(t, userCreds(t))
	client := s.compute(t)
	if _, err := keypairs.List(client).AllPages(); err != nil {
		t.Fatalf("List: %v", err)
	}
	old := s.provider.Token()
	if err := tokens.Revoke(s.identity(t), old).Err; err != nil {
		t.Fatalf("revoke own token: %v", err)
	}
	kp := mustCreate(t, client, keypairs.CreateOpts{Name: randomName("kp_"), PublicKey: createKey(t)})
	if s.provider.Token() == old {
		t.Fatal("no re-authentication after the token was revoked")
	}
	if err := keypairs.Delete(client, kp.Name).ExtractErr(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

// Application credentials (OS_APPLICATION_CREDENTIAL_ID/_SECRET, or _NAME with the user), which
// the provider supports: created by the user, then used to manage key pairs.
func TestAuthApplicationCredential(t *testing.T) {
	s := login(t, userCreds(t))
	idc := s.identity(t)
	ac, err := applicationcredentials.Create(idc, s.userID, applicationcredentials.CreateOpts{
		Name: randomName("ac_"), Secret: "s3cret-" + randomName(""),
	}).Extract()
	if err != nil {
		t.Fatalf("create application credential: %v", err)
	}
	defer func() {
		if err := applicationcredentials.Delete(idc, s.userID, ac.ID).ExtractErr(); err != nil {
			t.Errorf("delete application credential: %v", err)
		}
	}()
	if ac.Secret == "" || ac.ID == "" {
		t.Fatalf("application credential without id or secret: %+v", ac)
	}
	for _, opts := range []gophercloud.AuthOptions{
		{ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: ac.Secret},
		{ApplicationCredentialName: ac.Name, ApplicationCredentialSecret: ac.Secret, UserID: s.userID},
		{ApplicationCredentialName: ac.Name, ApplicationCredentialSecret: ac.Secret,
			Username: userCreds(t).username, DomainName: userCreds(t).domain},
	} {
		opts.IdentityEndpoint = srv.AuthURL
		opts.AllowReauth = true
		acs := authenticate(t, opts)
		assertEqual(t, "user of the application credential token", acs.userID, s.userID)
		client := acs.compute(t)
		kp := mustCreate(t, client, keypairs.CreateOpts{Name: randomName("kp_"), PublicKey: createKey(t)})
		assertEqual(t, "user_id", kp.UserID, s.userID)
		if err := keypairs.Delete(client, kp.Name).ExtractErr(); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
}

// Nova names may contain spaces; gophercloud puts the name into the URL as is and Go's HTTP
// client sends it percent-encoded (os-keypairs/my%20key).
func TestAccComputeV2Keypair_nameWithSpaces(t *testing.T) {
	client := login(t, userCreds(t)).compute(t)
	name := "tf key " + randomName("with spaces ")
	publicKey := createKey(t)
	kp := mustCreate(t, client, keypairs.CreateOpts{Name: name, PublicKey: publicKey})
	assertEqual(t, "name", kp.Name, name)
	got, err := keypairs.Get(client, name).Extract()
	if err != nil {
		t.Fatalf("Get %q: %v", name, err)
	}
	assertEqual(t, "name", got.Name, name)
	assertEqual(t, "public_key", got.PublicKey, publicKey)
	if findKeyPair(listKeyPairs(t, client, userOpts{}), name) == nil {
		t.Fatalf("%q not listed", name)
	}
	if err := keypairs.Delete(client, name).ExtractErr(); err != nil {
		t.Fatalf("Delete %q: %v", name, err)
	}
	assertGone(t, client, name, userOpts{})
}

// terraform apply runs up to 10 operations at once on one provider (one token): key pairs
// created, read, listed and deleted concurrently must all succeed.
func TestAccComputeV2Keypair_parallel(t *testing.T) {
	client := login(t, userCreds(t)).compute(t)
	const n = 10
	keys := make([]string, n)
	for i := 0; i < n; i += 2 { // odd ones are generated by the server
		keys[i] = createKey(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("par_%d_%s", i, randomName(""))
			opts := keypairs.CreateOpts{Name: name, PublicKey: keys[i]}
			if i%2 == 1 {
				opts.PublicKey = "" // generated
			}
			kp, err := keypairs.Create(client, opts).Extract()
			if err != nil {
				errs <- fmt.Errorf("create %s: %v", name, err)
				return
			}
			got, err := keypairs.Get(client, name).Extract()
			if err != nil || got.Fingerprint != kp.Fingerprint {
				errs <- fmt.Errorf("get %s: %v %+v", name, err, got)
				return
			}
			if _, err := keypairs.List(client).AllPages(); err != nil {
				errs <- fmt.Errorf("list: %v", err)
				return
			}
			if err := keypairs.Delete(client, name).ExtractErr(); err != nil {
				errs <- fmt.Errorf("delete %s: %v", name, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
