// Package novakeystest runs a novakeys server (OpenStack Nova key pairs and Keystone v3, plus
// the Alibaba ECS, Tencent CVM and TWCC key pair APIs and a web console) for a Go test, on
// free loopback ports with an in-memory store, and stops it when the test ends. It imports
// only the standard library.
//
// The binary is $NOVAKEYS_BIN, else novakeys on $PATH.
//
//	func TestKeypairs(t *testing.T) {
//		srv := novakeystest.Start(t) // stopped in t.Cleanup
//		o := srv.AuthOptions("demo") // also "admin", "reader"
//		provider, err := openstack.AuthenticatedClient(gophercloud.AuthOptions{
//			IdentityEndpoint: o.IdentityEndpoint, Username: o.Username, Password: o.Password,
//			DomainName: o.DomainName, TenantName: o.TenantName})
//		if err != nil {
//			t.Fatal(err)
//		}
//		compute, err := openstack.NewComputeV2(provider, gophercloud.EndpointOpts{Region: srv.Region})
//		// ... use compute ...
//		srv.Reset(t) // back to the fixtures
//	}
//
// One server for a whole package, from TestMain:
//
//	var srv *novakeystest.Server
//
//	func TestMain(m *testing.M) {
//		var err error
//		if srv, err = novakeystest.Launch(novakeystest.Options{}); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		code := m.Run()
//		srv.Stop()
//		os.Exit(code)
//	}
//
// StartWith takes Options: Seed (deterministic ids and keys), Clock (a frozen clock), Region,
// and any other `novakeys serve` flags in Args. The Server has every front's URL (ComputeURL,
// IdentityURL, AlibabaURL, TencentURL, TWCCURL, ConsoleURL; URLs by name), AuthURL
// (IdentityURL + "/v3") and the controls of /_novakeys: Reset, Snapshot, Restore,
// DeleteSnapshot, Clock, SetClock, AdvanceClock, RunClock, AddFault, DeleteFault, ClearFaults,
// Journal, and Control for any other.
//
// Import path: novakeys/novakeystest. In GOPATH mode put (or symlink) this directory at
// $GOPATH/src/novakeys/novakeystest; with modules, require novakeys/novakeystest and
// replace it with this directory (go.mod: replace novakeys/novakeystest => <repo>/go/novakeystest).
package novakeystest
