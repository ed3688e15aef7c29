// Command tls-client is etcd's own Go client (clientv3, as kube-apiserver uses it with
// --etcd-cafile/--etcd-certfile/--etcd-keyfile) over mTLS, for strata's TLS test: it puts a key,
// reads it back, watches it change and lists the members, with the client certificate given (its
// CN is the user when auth is enabled) and no user name. It prints one JSON line.
//
// Built offline in GOPATH mode from Debian's golang-go and golang-etcd-server-dev (see
// test/helpers/go-program.ts).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/pkg/transport"
)

type result struct {
	Value      string   `json:"value"`
	Watched    string   `json:"watched"`
	ClientURLs []string `json:"clientURLs"`
	Error      string   `json:"error,omitempty"`
}

func main() {
	endpoint := flag.String("endpoint", "", "https://host:port")
	ca := flag.String("cacert", "", "CA file")
	cert := flag.String("cert", "", "client certificate")
	key := flag.String("key", "", "client key")
	k := flag.String("key-name", "/tls-client/k", "key to write")
	flag.Parse()

	var r result
	fail := func(what string, err error) {
		r.Error = fmt.Sprintf("%s: %v", what, err)
		_ = json.NewEncoder(os.Stdout).Encode(r)
		os.Exit(1)
	}
	tlsCfg, err := transport.TLSInfo{CertFile: *cert, KeyFile: *key, TrustedCAFile: *ca}.ClientConfig()
	if err != nil {
		fail("tls config", err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, TLS: tlsCfg, DialTimeout: 5 * time.Second})
	if err != nil {
		fail("connect", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	if _, err := cli.Put(ctx, *k, "v1"); err != nil {
		fail("put", err)
	}
	g, err := cli.Get(ctx, *k)
	if err != nil {
		fail("get", err)
	}
	if len(g.Kvs) == 1 {
		r.Value = string(g.Kvs[0].Value)
	}
	wch := cli.Watch(ctx, *k, clientv3.WithRev(g.Header.Revision+1))
	if _, err := cli.Put(ctx, *k, "v2"); err != nil {
		fail("second put", err)
	}
	for w := range wch {
		if err := w.Err(); err != nil {
			fail("watch", err)
		}
		if len(w.Events) > 0 {
			r.Watched = string(w.Events[0].Kv.Value)
			break
		}
	}
	m, err := cli.MemberList(ctx)
	if err != nil {
		fail("member list", err)
	}
	for _, mem := range m.Members {
		r.ClientURLs = append(r.ClientURLs, mem.ClientURLs...)
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}
