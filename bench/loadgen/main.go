// Command loadgen drives one etcd v3 workload against one endpoint with etcd's own Go client
// (clientv3, the client kube-apiserver uses) and prints one JSON line per measurement on stdout.
//
// It is benchmark tooling for strata (see bench/README.md), built offline in GOPATH mode from
// Debian's golang-go and golang-etcd-server-dev:
//
//	GO111MODULE=off GOPATH=<tmp>:/usr/share/gocode go build -o <tmp>/loadgen ./bench/loadgen
//
// Closed-loop workloads (put, get, range-*, txn-*) run -conc workers that each keep one request in
// flight; ops completed inside the measured window (after -warmup, for -duration) are counted, and
// their latencies give p50/p99. The watch workload is open-loop: one writer puts at -rate per second
// while -watchers watchers on the prefix measure delivery latency from the moment each put was sent.
// CPU seconds of this process and of the -pids given (the server under test) are read from
// /proc/<pid>/stat at the start and end of the measured window.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/pkg/transport"
	"google.golang.org/grpc/metadata"
)

type options struct {
	endpoint  string
	workload  string
	conc      int
	conns     int
	duration  time.Duration
	warmup    time.Duration
	keys      int
	valueSize int
	prefix    string
	limit     int64
	watchers  int
	rate      int
	batch     int
	seed      int64
	giveUp    time.Duration
	since     int64
	timeout   time.Duration
	pids      string
	tag       string
	user      string
	password  string
	cacert    string
	cert      string
	key       string
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.endpoint, "endpoint", "127.0.0.1:2379", "host:port of the server under test; a comma list spreads the connections over them")
	flag.StringVar(&o.workload, "workload", "put", "put | get | get-serializable | range-full | range-paged | range-count | txn-create | txn-update | watch | load | fill | compact | ready")
	flag.IntVar(&o.conc, "conc", 1, "requests in flight (closed loop: one worker per request)")
	flag.IntVar(&o.conns, "conns", 1, "gRPC connections (clients); workers and watchers are spread over them")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "measured window; compact: how long the window runs on after the compaction returned")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "load before the measured window")
	flag.IntVar(&o.keys, "keys", 10000, "key space (put, txn-update), keys to load (load, range-*)")
	flag.IntVar(&o.valueSize, "value-size", 256, "value bytes")
	flag.StringVar(&o.prefix, "prefix", "", "key prefix (default: bench/<workload>/)")
	flag.Int64Var(&o.limit, "limit", 500, "page size for range-paged")
	flag.IntVar(&o.watchers, "watchers", 100, "watchers on the prefix (watch)")
	flag.IntVar(&o.rate, "rate", 100, "puts per second by the writer (watch); puts and gets per second each (compact)")
	flag.IntVar(&o.batch, "batch", 100, "puts per txn when loading keys (load, fill; fill -batch 1: plain puts)")
	flag.Int64Var(&o.seed, "seed", 1, "fill: which value is written (a second fill with another seed overwrites every key)")
	flag.DurationVar(&o.giveUp, "give-up", 30*time.Minute, "compact: report the compaction unfinished after this long")
	flag.Int64Var(&o.since, "since", 0, "ready: unix ms the server was started at")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "ready: give up after this long; load, fill, compact: per request")
	flag.StringVar(&o.pids, "pids", "", "CPU accounting: label:pid,label:pid,... (one label may repeat; its CPU is summed)")
	flag.StringVar(&o.tag, "tag", "", "copied into the JSON line")
	flag.StringVar(&o.user, "user", "", "user name to authenticate as (the --auth variant); empty: no auth")
	flag.StringVar(&o.password, "password", "", "password of -user")
	flag.StringVar(&o.cacert, "cacert", "", "CA of the server's certificate (the --tls variant); empty: plaintext")
	flag.StringVar(&o.cert, "cert", "", "client certificate (with -cacert)")
	flag.StringVar(&o.key, "key", "", "client key (with -cacert)")
	flag.Parse()
	if o.conc < 1 {
		o.conc = 1
	}
	if o.conns < 1 {
		o.conns = 1
	}
	if o.batch < 1 {
		o.batch = 1
	}
	return o
}

// ---- output ----------------------------------------------------------------------------------

func emit(m map[string]interface{}) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
}

func fail(o options, err error) {
	emit(map[string]interface{}{"workload": o.workload, "tag": o.tag, "fatal": err.Error()})
	os.Exit(1)
}

// ---- CPU accounting from /proc ----------------------------------------------------------------

var clkTck = 100.0 // USER_HZ; 100 on every Linux architecture Go supports here

// cpuSeconds reads utime+stime of a process (all its threads) from /proc/<pid>/stat.
func cpuSeconds(pid string) (float64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // comm may contain spaces and parentheses
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	// After the comm: state(3) ppid(4) ... utime(14) stime(15) → indexes 11 and 12 here.
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (ut + st) / clkTck, true
}

type cpuSnap map[string]float64

func parsePids(spec string) map[string][]string {
	out := map[string][]string{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kv := strings.SplitN(part, ":", 2)
		if len(kv) != 2 {
			continue
		}
		out[kv[0]] = append(out[kv[0]], kv[1])
	}
	return out
}

func snapCPU(pids map[string][]string) cpuSnap {
	s := cpuSnap{}
	if c, ok := cpuSeconds("self"); ok {
		s["client"] = c
	}
	for label, list := range pids {
		for _, p := range list {
			if c, ok := cpuSeconds(p); ok {
				s[label] += c
			}
		}
	}
	return s
}

// addCPU writes <label>_cpu_s (CPU seconds in the window) and <label>_cpu_pct (of one core).
func addCPU(m map[string]interface{}, before, after cpuSnap, wall float64) {
	for label, a := range after {
		b, ok := before[label]
		if !ok {
			continue
		}
		d := a - b
		m[label+"_cpu_s"] = round3(d)
		if wall > 0 {
			m[label+"_cpu_pct"] = round1(100 * d / wall)
		}
	}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// ---- latency statistics ------------------------------------------------------------------------

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return ms(sorted[i])
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func latencyFields(m map[string]interface{}, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	m["p50_ms"] = round3(percentile(lat, 0.50))
	m["p99_ms"] = round3(percentile(lat, 0.99))
	if len(lat) > 0 {
		m["max_ms"] = round3(ms(lat[len(lat)-1]))
	}
}

// ---- clients -----------------------------------------------------------------------------------

// The credentials of -user (empty: none), set once from the flags; each client authenticates once.
var user, password string

// The client TLS of -cacert/-cert/-key (nil: plaintext), as kube-apiserver's --etcd-cafile/certfile/keyfile.
var tlsInfo *transport.TLSInfo

func newClient(endpoint string, dial time.Duration) (*clientv3.Client, error) {
	cfg := clientv3.Config{
		Endpoints:   []string{endpoint},
		DialTimeout: dial,
		LogConfig:   nil,
		Username:    user,
		Password:    password,
	}
	if tlsInfo != nil {
		t, err := tlsInfo.ClientConfig()
		if err != nil {
			return nil, err
		}
		cfg.TLS = t
	}
	return clientv3.New(cfg)
}

func newClients(o options) []*clientv3.Client {
	// Several comma-separated endpoints (instances of one store): connection i goes to endpoint i mod n.
	endpoints := strings.Split(o.endpoint, ",")
	cs := make([]*clientv3.Client, o.conns)
	for i := range cs {
		ep := endpoints[i%len(endpoints)]
		c, err := newClient(ep, 10*time.Second)
		if err != nil {
			fail(o, fmt.Errorf("connect %s: %w", ep, err))
		}
		cs[i] = c
	}
	return cs
}

func value(size int, seed int64) string {
	b := make([]byte, size)
	r := rand.New(rand.NewSource(seed))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

func keyName(prefix string, i int) string { return fmt.Sprintf("%s%06d", prefix, i) }

// prefixEnd is clientv3.GetPrefixRangeEnd's rule: the prefix with its last byte incremented.
func prefixEnd(prefix string) string { return clientv3.GetPrefixRangeEnd(prefix) }

// ensureLoaded makes sure keys prefix000000..prefix<n-1> exist (count_only check, then batched
// txn puts of o.batch keys, 8 in flight). Returns how many keys it wrote.
func ensureLoaded(o options, c *clientv3.Client, prefix string, n, size int) (int, time.Duration) {
	ctx := context.Background()
	r, err := c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		fail(o, fmt.Errorf("count %s: %w", prefix, err))
	}
	if int(r.Count) >= n {
		return 0, 0
	}
	start := time.Now()
	val := value(size, 42)
	batches := make(chan int, 64)
	go func() {
		for i := 0; i < n; i += o.batch {
			batches <- i
		}
		close(batches)
	}()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range batches {
				ops := make([]clientv3.Op, 0, o.batch)
				for i := first; i < first+o.batch && i < n; i++ {
					ops = append(ops, clientv3.OpPut(keyName(prefix, i), val))
				}
				cctx, cancel := context.WithTimeout(ctx, o.timeout)
				_, err := c.Txn(cctx).Then(ops...).Commit()
				cancel()
				if err != nil {
					firstErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e, ok := firstErr.Load().(error); ok {
		fail(o, fmt.Errorf("load %s: %w", prefix, e))
	}
	return n, time.Since(start)
}

// ---- closed-loop runner ------------------------------------------------------------------------

// opFunc performs one request; it returns an error, or how many "items" it handled (for checks).
type opFunc func(ctx context.Context) error

type result struct {
	ops    int64
	errs   int64
	firstE string
	lat    []time.Duration
	wall   float64
	before cpuSnap
	after  cpuSnap
}

// closedLoop runs newWorker(i) for each of o.conc workers until warmup+duration has passed and
// keeps the ops that completed inside the measured window.
func closedLoop(o options, pids map[string][]string, newWorker func(w int) opFunc) result {
	var (
		measureStart atomic.Int64
		measureEnd   atomic.Int64
		stop         atomic.Bool
		mu           sync.Mutex
		res          result
		wg           sync.WaitGroup
	)
	measureStart.Store(1<<62 - 1)
	measureEnd.Store(1<<62 - 1)
	ctx := context.Background()
	for w := 0; w < o.conc; w++ {
		op := newWorker(w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			var ops, errs int64
			var firstE string
			for !stop.Load() {
				t0 := time.Now()
				err := op(ctx)
				t1 := time.Now()
				n := t1.UnixNano()
				if n < measureStart.Load() || n > measureEnd.Load() {
					continue
				}
				if err != nil {
					errs++
					if firstE == "" {
						firstE = err.Error()
					}
					continue
				}
				ops++
				lat = append(lat, t1.Sub(t0))
			}
			mu.Lock()
			res.ops += ops
			res.errs += errs
			if res.firstE == "" {
				res.firstE = firstE
			}
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		}()
	}
	time.Sleep(o.warmup)
	res.before = snapCPU(pids)
	t0 := time.Now()
	measureStart.Store(t0.UnixNano())
	measureEnd.Store(t0.Add(o.duration).UnixNano())
	time.Sleep(o.duration)
	res.after = snapCPU(pids)
	res.wall = time.Since(t0).Seconds()
	stop.Store(true)
	wg.Wait()
	return res
}

func report(o options, r result, extra map[string]interface{}) {
	m := map[string]interface{}{
		"workload":   o.workload,
		"tag":        o.tag,
		"conc":       o.conc,
		"conns":      o.conns,
		"duration_s": round3(r.wall),
		"ops":        r.ops,
		"errors":     r.errs,
		"ops_per_s":  round1(float64(r.ops) / o.duration.Seconds()),
	}
	if r.firstE != "" {
		m["first_error"] = r.firstE
	}
	latencyFields(m, r.lat)
	addCPU(m, r.before, r.after, r.wall)
	for k, v := range extra {
		m[k] = v
	}
	emit(m)
}

// ---- workloads ---------------------------------------------------------------------------------

func runPut(o options, pids map[string][]string) {
	cs := newClients(o)
	val := value(o.valueSize, 7)
	r := closedLoop(o, pids, func(w int) opFunc {
		c := cs[w%len(cs)]
		rnd := rand.New(rand.NewSource(int64(w) + 1))
		return func(ctx context.Context) error {
			_, err := c.Put(ctx, keyName(o.prefix, rnd.Intn(o.keys)), val)
			return err
		}
	})
	report(o, r, map[string]interface{}{"keys": o.keys, "value_size": o.valueSize})
}

func runGet(o options, pids map[string][]string, serializable bool) {
	cs := newClients(o)
	key := o.prefix + "key"
	if _, err := cs[0].Put(context.Background(), key, value(o.valueSize, 9)); err != nil {
		fail(o, err)
	}
	var opts []clientv3.OpOption
	if serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	var bad atomic.Int64
	r := closedLoop(o, pids, func(w int) opFunc {
		c := cs[w%len(cs)]
		return func(ctx context.Context) error {
			resp, err := c.Get(ctx, key, opts...)
			if err == nil && (len(resp.Kvs) != 1 || len(resp.Kvs[0].Value) != o.valueSize) {
				bad.Add(1)
			}
			return err
		}
	})
	report(o, r, map[string]interface{}{"serializable": serializable, "value_size": o.valueSize, "bad_responses": bad.Load()})
}

func runRange(o options, pids map[string][]string, mode string) {
	cs := newClients(o)
	loaded, took := ensureLoaded(o, cs[0], o.prefix, o.keys, o.valueSize)
	end := prefixEnd(o.prefix)
	var bad, lists atomic.Int64
	r := closedLoop(o, pids, func(w int) opFunc {
		c := cs[w%len(cs)]
		switch mode {
		case "full":
			return func(ctx context.Context) error {
				resp, err := c.Get(ctx, o.prefix, clientv3.WithRange(end))
				if err == nil && len(resp.Kvs) != o.keys {
					bad.Add(1)
				}
				return err
			}
		case "count":
			return func(ctx context.Context) error {
				resp, err := c.Get(ctx, o.prefix, clientv3.WithRange(end), clientv3.WithCountOnly())
				if err == nil && int(resp.Count) != o.keys {
					bad.Add(1)
				}
				return err
			}
		default: // paged, kube-apiserver's GetList: first page consistent, the rest pinned to its revision
			next := ""
			var rev int64
			seen := 0
			return func(ctx context.Context) error {
				opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(o.limit)}
				key := o.prefix
				if next != "" {
					key = next
					opts = append(opts, clientv3.WithRev(rev))
				}
				resp, err := c.Get(ctx, key, opts...)
				if err != nil {
					next, rev, seen = "", 0, 0
					return err
				}
				if next == "" {
					rev = resp.Header.Revision
				}
				seen += len(resp.Kvs)
				if resp.More && len(resp.Kvs) > 0 {
					next = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
				} else {
					if seen != o.keys {
						bad.Add(1)
					}
					lists.Add(1)
					next, rev, seen = "", 0, 0
				}
				return nil
			}
		}
	})
	extra := map[string]interface{}{"keys": o.keys, "value_size": o.valueSize, "bad_responses": bad.Load(), "loaded": loaded, "load_s": round3(took.Seconds())}
	if mode == "paged" {
		extra["limit"] = o.limit
		extra["pages_per_list"] = (o.keys + int(o.limit) - 1) / int(o.limit)
	}
	report(o, r, extra)
}

func runTxnCreate(o options, pids map[string][]string) {
	cs := newClients(o)
	val := value(o.valueSize, 11)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var failed atomic.Int64
	r := closedLoop(o, pids, func(w int) opFunc {
		c := cs[w%len(cs)]
		n := 0
		return func(ctx context.Context) error {
			key := fmt.Sprintf("%s%s/%03d/%07d", o.prefix, run, w, n)
			n++
			resp, err := c.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, val)).
				Commit()
			if err == nil && !resp.Succeeded {
				failed.Add(1)
			}
			return err
		}
	})
	report(o, r, map[string]interface{}{"value_size": o.valueSize, "not_succeeded": failed.Load()})
}

func runTxnUpdate(o options, pids map[string][]string) {
	cs := newClients(o)
	loaded, took := ensureLoaded(o, cs[0], o.prefix, o.keys, o.valueSize)
	resp, err := cs[0].Get(context.Background(), o.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		fail(o, err)
	}
	revs := map[string]int64{}
	for _, kv := range resp.Kvs {
		revs[string(kv.Key)] = kv.ModRevision
	}
	val := value(o.valueSize, 13)
	var conflicts atomic.Int64
	r := closedLoop(o, pids, func(w int) opFunc {
		c := cs[w%len(cs)]
		// Worker w owns keys i ≡ w (mod conc), so guarded updates only conflict if the server is wrong.
		var mine []string
		local := map[string]int64{}
		for i := w; i < o.keys; i += o.conc {
			k := keyName(o.prefix, i)
			mine = append(mine, k)
			local[k] = revs[k]
		}
		i := 0
		return func(ctx context.Context) error {
			key := mine[i%len(mine)]
			i++
			resp, err := c.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", local[key])).
				Then(clientv3.OpPut(key, val)).
				Else(clientv3.OpGet(key)).
				Commit()
			if err != nil {
				return err
			}
			if resp.Succeeded {
				local[key] = resp.Header.Revision
			} else {
				conflicts.Add(1)
				kvs := resp.Responses[0].GetResponseRange().Kvs
				if len(kvs) > 0 {
					local[key] = kvs[0].ModRevision
				}
			}
			return nil
		}
	})
	report(o, r, map[string]interface{}{"keys": o.keys, "value_size": o.valueSize, "conflicts": conflicts.Load(), "loaded": loaded, "load_s": round3(took.Seconds())})
}

// runWatch: o.watchers watchers on a fresh prefix, each on its own Watch stream (as independent
// clients would be), spread over o.conns connections; one open-loop writer puts o.rate keys per
// second for o.duration; each value starts with the send time, so every watcher can compute the
// delivery latency of every event it receives.
func runWatch(o options, pids map[string][]string) {
	cs := newClients(o)
	prefix := fmt.Sprintf("%s%s/", o.prefix, strconv.FormatInt(time.Now().UnixNano(), 36))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type watcherState struct {
		lat      []time.Duration
		received int64
		dup      int64
		outOfOrd int64
	}
	states := make([]*watcherState, o.watchers)
	var created sync.WaitGroup
	var done sync.WaitGroup
	var totalRecv atomic.Int64
	for i := 0; i < o.watchers; i++ {
		st := &watcherState{lat: make([]time.Duration, 0, o.rate*int(o.duration.Seconds()+1))}
		states[i] = st
		wctx := metadata.AppendToOutgoingContext(ctx, "bench-watcher", strconv.Itoa(i))
		ch := cs[i%len(cs)].Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
		created.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			isCreated := false
			var lastRev int64
			for resp := range ch {
				now := time.Now().UnixNano()
				if resp.Created && !isCreated {
					isCreated = true
					created.Done()
					continue
				}
				for _, ev := range resp.Events {
					v := ev.Kv.Value
					if len(v) < 16 {
						continue
					}
					// Puts are issued concurrently, so they commit in revision order, not send order:
					// each watcher must see strictly increasing revisions.
					if rev := ev.Kv.ModRevision; rev <= lastRev {
						if rev == lastRev {
							st.dup++
						} else {
							st.outOfOrd++
						}
						continue
					} else {
						lastRev = rev
					}
					sent := int64(binary.BigEndian.Uint64(v[0:8]))
					st.lat = append(st.lat, time.Duration(now-sent))
					st.received++
					totalRecv.Add(1)
				}
			}
		}()
	}
	createdCh := make(chan struct{})
	go func() { created.Wait(); close(createdCh) }()
	select {
	case <-createdCh:
	case <-time.After(20 * time.Second):
		fail(o, fmt.Errorf("watchers not created after 20s"))
	}

	// The writer: open loop at o.rate puts/s (each put on its own goroutine, at most 512 at once).
	writer := cs[0]
	total := int(float64(o.rate) * o.duration.Seconds())
	interval := time.Second / time.Duration(o.rate)
	pad := o.valueSize
	if pad < 16 {
		pad = 16
	}
	base := []byte(value(pad, 17))
	sem := make(chan struct{}, 512)
	var sent, putErrs atomic.Int64
	var putMu sync.Mutex
	putLat := make([]time.Duration, 0, total)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	before := snapCPU(pids)
	t0 := time.Now()
	for i := 0; i < total; i++ {
		due := t0.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			v := make([]byte, len(base))
			copy(v, base)
			binary.BigEndian.PutUint64(v[8:16], uint64(i))
			s := time.Now()
			binary.BigEndian.PutUint64(v[0:8], uint64(s.UnixNano()))
			_, err := writer.Put(ctx, keyName(prefix, i), string(v))
			if err != nil {
				putErrs.Add(1)
				firstErr.Store(err)
				return
			}
			d := time.Since(s)
			sent.Add(1)
			putMu.Lock()
			putLat = append(putLat, d)
			putMu.Unlock()
		}(i)
	}
	wg.Wait()
	writeWall := time.Since(t0).Seconds()
	// Wait (at most 10 s) until every watcher has every event.
	expected := sent.Load() * int64(o.watchers)
	deadline := time.Now().Add(10 * time.Second)
	for totalRecv.Load() < expected && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	wall := time.Since(t0).Seconds()
	after := snapCPU(pids)
	cancel()
	waitCh := make(chan struct{})
	go func() { done.Wait(); close(waitCh) }()
	select {
	case <-waitCh:
	case <-time.After(5 * time.Second):
	}

	var all []time.Duration
	var dup, ooo int64
	for _, st := range states {
		all = append(all, st.lat...)
		dup += st.dup
		ooo += st.outOfOrd
	}
	m := map[string]interface{}{
		"workload":        o.workload,
		"tag":             o.tag,
		"watchers":        o.watchers,
		"rate":            o.rate,
		"conns":           o.conns,
		"duration_s":      round3(wall),
		"write_s":         round3(writeWall),
		"puts":            sent.Load(),
		"errors":          putErrs.Load(),
		"achieved_rate":   round1(float64(sent.Load()) / writeWall),
		"events_expected": expected,
		"events_received": int64(len(all)),
		"events_missing":  expected - int64(len(all)),
		"duplicates":      dup,
		"out_of_order":    ooo,
	}
	if e, ok := firstErr.Load().(error); ok {
		m["first_error"] = e.Error()
	}
	latencyFields(m, all)
	sort.Slice(putLat, func(i, j int) bool { return putLat[i] < putLat[j] })
	m["put_p50_ms"] = round3(percentile(putLat, 0.5))
	m["put_p99_ms"] = round3(percentile(putLat, 0.99))
	addCPU(m, before, after, wall)
	emit(m)
}

// runLoad writes o.keys keys of o.valueSize bytes under the prefix (txns of o.batch puts).
func runLoad(o options, pids map[string][]string) {
	cs := newClients(o)
	before := snapCPU(pids)
	t0 := time.Now()
	loaded, _ := ensureLoaded(o, cs[0], o.prefix, o.keys, o.valueSize)
	wall := time.Since(t0).Seconds()
	after := snapCPU(pids)
	m := map[string]interface{}{
		"workload": o.workload, "tag": o.tag, "keys": o.keys, "value_size": o.valueSize, "batch": o.batch,
		"loaded": loaded, "duration_s": round3(wall), "keys_per_s": round1(float64(loaded) / wall),
	}
	addCPU(m, before, after, wall)
	emit(m)
}

// runReady polls until the server answers a linearizable Get, and reports the time since -since
// (when the driver spawned the server). A TCP connect is tried first every 5 ms, so gRPC's
// reconnect back-off never adds to the figure.
func runReady(o options) {
	start := time.Now()
	if o.since == 0 {
		o.since = start.UnixMilli()
	}
	deadline := start.Add(o.timeout)
	attempts := 0
	var lastErr error
	for time.Now().Before(deadline) {
		attempts++
		conn, err := net.DialTimeout("tcp", o.endpoint, 200*time.Millisecond)
		if err != nil {
			lastErr = err
			time.Sleep(5 * time.Millisecond)
			continue
		}
		conn.Close()
		c, err := newClient(o.endpoint, 2*time.Second)
		if err != nil {
			lastErr = err
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = c.Get(ctx, "bench/ready")
		cancel()
		c.Close()
		if err == nil {
			now := time.Now().UnixMilli()
			emit(map[string]interface{}{"workload": "ready", "tag": o.tag, "ready_s": round3(float64(now-o.since) / 1000), "attempts": attempts})
			return
		}
		lastErr = err
		time.Sleep(5 * time.Millisecond)
	}
	fail(o, fmt.Errorf("not ready after %s: %v", o.timeout, lastErr))
}

func main() {
	o := parseFlags()
	user, password = o.user, o.password
	if o.cacert != "" {
		tlsInfo = &transport.TLSInfo{TrustedCAFile: o.cacert, CertFile: o.cert, KeyFile: o.key}
	}
	if o.prefix == "" {
		o.prefix = "bench/" + o.workload + "/"
	}
	pids := parsePids(o.pids)
	switch o.workload {
	case "put":
		runPut(o, pids)
	case "get":
		runGet(o, pids, false)
	case "get-serializable":
		runGet(o, pids, true)
	case "range-full":
		runRange(o, pids, "full")
	case "range-paged":
		runRange(o, pids, "paged")
	case "range-count":
		runRange(o, pids, "count")
	case "txn-create":
		runTxnCreate(o, pids)
	case "txn-update":
		runTxnUpdate(o, pids)
	case "watch":
		runWatch(o, pids)
	case "load":
		runLoad(o, pids)
	case "fill":
		runFill(o, pids, o.seed)
	case "compact":
		runCompact(o, pids)
	case "ready":
		runReady(o)
	default:
		fail(o, fmt.Errorf("unknown workload %q", o.workload))
	}
}
