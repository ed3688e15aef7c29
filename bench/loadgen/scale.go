package main

// The scale workload's steps (bench/lib/scale.ts drives them, one invocation each):
//
//	fill     writes keys prefix000000..prefix<keys-1> once, -conc requests in flight, each a Put
//	         (-batch 1) or a txn of -batch puts; every request's latency is kept, so the worst one
//	         of a million is reported, and the server's RSS is sampled for its peak.
//	compact  a full compaction (physical, to the latest revision) while an open-loop writer and
//	         reader run at -rate each beside it; the worst latencies of the ops that overlapped it.

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

var vmRSS = regexp.MustCompile(`VmRSS:\s+(\d+)\s+kB`)

// rssMiB reads VmRSS of a process; 0 if it is gone.
func rssMiB(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	m := vmRSS.FindSubmatch(b)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}

// rssPeak samples the RSS of the -pids labelled "server" every 100 ms until stop is closed.
func rssPeak(pids map[string][]string, stop <-chan struct{}) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		peak := 0.0
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			sum := 0.0
			for _, p := range pids["server"] {
				sum += rssMiB(p)
			}
			if sum > peak {
				peak = sum
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func runFill(o options, pids map[string][]string, seed int64) {
	cs := newClients(o)
	val := value(o.valueSize, seed)
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr atomic.Value
	var failed atomic.Bool
	var wg sync.WaitGroup
	stopRSS := make(chan struct{})
	peak := rssPeak(pids, stopRSS)
	before := snapCPU(pids)
	t0 := time.Now()
	for w := 0; w < o.conc; w++ {
		c := cs[w%len(cs)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, o.keys/o.conc/o.batch+1)
			for !failed.Load() {
				first := int(next.Add(int64(o.batch))) - o.batch
				if first >= o.keys {
					break
				}
				ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
				s := time.Now()
				var err error
				if o.batch == 1 {
					_, err = c.Put(ctx, keyName(o.prefix, first), val)
				} else {
					ops := make([]clientv3.Op, 0, o.batch)
					for i := first; i < first+o.batch && i < o.keys; i++ {
						ops = append(ops, clientv3.OpPut(keyName(o.prefix, i), val))
					}
					_, err = c.Txn(ctx).Then(ops...).Commit()
				}
				d := time.Since(s)
				cancel()
				if err != nil {
					firstErr.Store(err)
					failed.Store(true)
					break
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(t0).Seconds()
	after := snapCPU(pids)
	close(stopRSS)
	if e, ok := firstErr.Load().(error); ok {
		fail(o, fmt.Errorf("fill %s: %w", o.prefix, e))
	}
	m := map[string]interface{}{
		"workload": o.workload, "tag": o.tag, "keys": o.keys, "value_size": o.valueSize, "batch": o.batch,
		"conc": o.conc, "conns": o.conns, "requests": len(lat), "duration_s": round3(wall),
		"keys_per_s": round1(float64(o.keys) / wall), "rss_peak_mib": round1(<-peak),
	}
	latencyFields(m, lat)
	addCPU(m, before, after, wall)
	emit(m)
}

// timed is one background op: when it was sent and how long it took.
type timed struct {
	start time.Time
	took  time.Duration
	err   error
}

// openLoop sends one op every 1/rate s on its own goroutine (at most 256 outstanding) until stop
// is closed; it returns every op once all have finished.
func openLoop(rate int, stop <-chan struct{}, op func(ctx context.Context, i int) error, timeout time.Duration) <-chan []timed {
	out := make(chan []timed, 1)
	go func() {
		var mu sync.Mutex
		var all []timed
		var wg sync.WaitGroup
		sem := make(chan struct{}, 256)
		interval := time.Second / time.Duration(rate)
		t0 := time.Now()
		for i := 0; ; i++ {
			if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
				select {
				case <-stop:
					wg.Wait()
					out <- all
					return
				case <-time.After(d):
				}
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(i int) {
				defer func() { <-sem; wg.Done() }()
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				s := time.Now()
				err := op(ctx, i)
				t := timed{start: s, took: time.Since(s), err: err}
				cancel()
				mu.Lock()
				all = append(all, t)
				mu.Unlock()
			}(i)
		}
	}()
	return out
}

// overlapping keeps the ops whose interval overlaps [from, to] and reports their count, errors,
// p99 and worst latency under the given field prefix.
func overlapping(m map[string]interface{}, name string, ops []timed, from, to time.Time) {
	var lat []time.Duration
	errs := 0
	firstErr := ""
	for _, t := range ops {
		if t.start.After(to) || t.start.Add(t.took).Before(from) {
			continue
		}
		if t.err != nil {
			errs++
			if firstErr == "" {
				firstErr = t.err.Error()
			}
			continue
		}
		lat = append(lat, t.took)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	m[name+"s"] = len(lat)
	m[name+"_errors"] = errs
	if firstErr != "" {
		m[name+"_first_error"] = firstErr
	}
	m[name+"_p50_ms"] = round3(percentile(lat, 0.5))
	m[name+"_p99_ms"] = round3(percentile(lat, 0.99))
	if len(lat) > 0 {
		m[name+"_max_ms"] = round3(ms(lat[len(lat)-1]))
	}
}

func runCompact(o options, pids map[string][]string) {
	cs := newClients(o)
	c := cs[0]
	val := value(o.valueSize, 23)
	stop := make(chan struct{})
	var bad atomic.Int64
	puts := openLoop(o.rate, stop, func(ctx context.Context, i int) error {
		_, err := c.Put(ctx, keyName(o.prefix, rand.Intn(o.keys)), val)
		return err
	}, o.timeout)
	gets := openLoop(o.rate, stop, func(ctx context.Context, i int) error {
		resp, err := c.Get(ctx, keyName(o.prefix, rand.Intn(o.keys)))
		if err == nil && len(resp.Kvs) != 1 {
			bad.Add(1)
		}
		return err
	}, o.timeout)
	time.Sleep(o.warmup)
	head, err := c.Get(context.Background(), keyName(o.prefix, 0))
	if err != nil {
		close(stop)
		fail(o, fmt.Errorf("revision before compaction: %w", err))
	}
	rev := head.Header.Revision
	before := snapCPU(pids)
	from := time.Now()
	// A compaction still running at -give-up is reported unfinished (the server carries on with it).
	ctx, cancel := context.WithTimeout(context.Background(), o.giveUp)
	_, cerr := c.Compact(ctx, rev, clientv3.WithCompactPhysical())
	finished := true
	if cerr != nil && ctx.Err() == context.DeadlineExceeded {
		finished, cerr = false, nil
	}
	cancel()
	done := time.Now()
	// Work a server defers past its answer (index trimming, row deletion) still counts.
	time.Sleep(o.duration)
	to := time.Now()
	after := snapCPU(pids)
	close(stop)
	putOps, getOps := <-puts, <-gets
	if cerr != nil {
		fail(o, fmt.Errorf("compact to %d: %w", rev, cerr))
	}
	m := map[string]interface{}{
		"workload": o.workload, "tag": o.tag, "keys": o.keys, "rate": o.rate, "compact_revision": rev,
		"compact_s": round3(done.Sub(from).Seconds()), "compact_finished": finished, "window_s": round3(to.Sub(from).Seconds()),
		"bad_responses": bad.Load(),
	}
	overlapping(m, "put", putOps, from, to)
	overlapping(m, "get", getOps, from, to)
	overlapping(m, "before_put", putOps, time.Time{}, from.Add(-time.Millisecond))
	addCPU(m, before, after, to.Sub(from).Seconds())
	emit(m)
}
