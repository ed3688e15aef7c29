// Command auth-client is etcd's own Go client (clientv3, as kube-apiserver and etcdctl use it)
// logged in as a user, for strata's multi-instance auth test: it authenticates on instance A,
// writes there for -busy (its token renewed on A only), then is moved to instance B and writes
// again. A token B refuses ("invalid auth token") must be replaced by the client itself, without
// the write failing. It prints one JSON line.
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
)

type result struct {
	PutsOnA  int    `json:"putsOnA"`
	PutsOnB  int    `json:"putsOnB"`
	Error    string `json:"error,omitempty"`
	Revision int64  `json:"revision"`
}

func main() {
	a := flag.String("a", "", "host:port of instance A")
	b := flag.String("b", "", "host:port of instance B")
	user := flag.String("user", "", "user name")
	password := flag.String("password", "", "password")
	prefix := flag.String("prefix", "/auth-client/", "key prefix the user may write")
	busy := flag.Duration("busy", 3*time.Second, "how long to write on A")
	flag.Parse()

	var r result
	out := func() {
		_ = json.NewEncoder(os.Stdout).Encode(r)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*a}, Username: *user, Password: *password, DialTimeout: 5 * time.Second})
	if err != nil {
		r.Error = fmt.Sprintf("connect to A: %v", err)
		out()
		os.Exit(1)
	}
	defer cli.Close()

	put := func(key string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := cli.Put(ctx, *prefix+key, "v")
		if err == nil {
			r.Revision = resp.Header.Revision
		}
		return err
	}
	for end := time.Now().Add(*busy); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if err := put(fmt.Sprintf("a%d", r.PutsOnA)); err != nil {
			r.Error = fmt.Sprintf("put on A: %v", err)
			out()
			os.Exit(1)
		}
		r.PutsOnA++
	}
	cli.SetEndpoints(*b)
	for i := 0; i < 3; i++ {
		if err := put(fmt.Sprintf("b%d", i)); err != nil {
			r.Error = fmt.Sprintf("put on B: %v", err)
			out()
			os.Exit(1)
		}
		r.PutsOnB++
	}
	out()
}
